/*
 * tflm_runtime.cc - the TFLite Micro runtime behind the firmware's model API (model.h):
 * model_init() builds a tflite::MicroInterpreter over the embedded .tflite with a
 * MicroMutableOpResolver holding only the model's ops (int8-only CMSIS-NN registrations where
 * TFLM offers them, so unused int16/int4 variants are not linked), and model_invoke() copies the
 * int8 input in, calls Invoke() and copies the int8 output out.
 *
 * Generated next to model.h (app/tflm_runtime.py): model.c (model_tflite[], model_labels[]) and
 * tflm_ops.h (TFLM_NUM_OPS and TFLM_ADD_OPS(r), the resolver calls). MODEL_TFLM_ARENA_BYTES is
 * the smallest arena AllocateTensors() accepts, measured on the emulated M4 with
 * tflm_arena_probe() in a firmware built with TFLM_ARENA_PROBE.
 *
 * No heap: the interpreter and the resolver are constructed with placement new in static storage.
 */
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

#include "tensorflow/lite/micro/micro_interpreter.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
#include "tensorflow/lite/schema/schema_generated.h"

extern "C" {
#include "model.h"
}
#include "tflm_ops.h"

namespace {

using Resolver = tflite::MicroMutableOpResolver<TFLM_NUM_OPS>;

alignas(16) uint8_t tensor_arena[MODEL_TFLM_ARENA_BYTES];
alignas(Resolver) uint8_t resolver_storage[sizeof(Resolver)];
alignas(tflite::MicroInterpreter) uint8_t interpreter_storage[sizeof(tflite::MicroInterpreter)];
tflite::MicroInterpreter *interpreter = nullptr;
Resolver *resolver = nullptr;

/* 0 when the interpreter is ready, -1 otherwise. */
int setup(size_t arena_bytes)
{
    if (interpreter != nullptr) {
        interpreter->~MicroInterpreter();
        interpreter = nullptr;
    }
    if (resolver == nullptr) {
        resolver = new (resolver_storage) Resolver();
        TFLM_ADD_OPS((*resolver));
    }
    const tflite::Model *model = tflite::GetModel(model_tflite);
    if (model->version() != TFLITE_SCHEMA_VERSION) {
        return -1;
    }
    interpreter = new (interpreter_storage) tflite::MicroInterpreter(model, *resolver, tensor_arena, arena_bytes);
    if (interpreter->AllocateTensors() != kTfLiteOk) {
        return -1;
    }
    TfLiteTensor *in = interpreter->input(0);
    TfLiteTensor *out = interpreter->output(0);
    if (in->type != kTfLiteInt8 || out->type != kTfLiteInt8 || in->bytes != (size_t)MODEL_INPUT_SIZE ||
        out->bytes < (size_t)MODEL_OUTPUT_SIZE) {
        return -1;
    }
    return 0;
}

int ready = -1;

}  // namespace

extern "C" {

/* Arena bytes the interpreter used after AllocateTensors() (0 before model_init). */
volatile uint32_t tflm_arena_used;

#if defined(TFLM_ARENA_PROBE)
int32_t tflm_arena_probe(uint32_t arena_bytes);
/* Referenced from model_init so that --gc-sections keeps the probe in the measurement build. */
int32_t (*volatile tflm_arena_probe_entry)(uint32_t);
#endif

void model_init(void)
{
#if defined(TFLM_ARENA_PROBE)
    tflm_arena_probe_entry = tflm_arena_probe;
#endif
    ready = setup(sizeof tensor_arena);
    tflm_arena_used = (ready == 0) ? (uint32_t)interpreter->arena_used_bytes() : 0u;
}

void model_invoke(const int8_t *input, int8_t *output)
{
    if (ready != 0) {
        for (int i = 0; i < MODEL_OUTPUT_SIZE; i++) {
            output[i] = INT8_MIN;
        }
        return;
    }
    std::memcpy(interpreter->input(0)->data.int8, input, MODEL_INPUT_SIZE);
    if (interpreter->Invoke() != kTfLiteOk) {
        for (int i = 0; i < MODEL_OUTPUT_SIZE; i++) {
            output[i] = INT8_MIN;
        }
        return;
    }
    std::memcpy(output, interpreter->output(0)->data.int8, MODEL_OUTPUT_SIZE);
}

#if defined(TFLM_ARENA_PROBE)
/* Measurement build only: 0 if AllocateTensors() accepts an arena of `arena_bytes` (<= the static one). */
int32_t tflm_arena_probe(uint32_t arena_bytes)
{
    if (arena_bytes > sizeof tensor_arena) {
        return -2;
    }
    int32_t rc = setup(arena_bytes);
    tflm_arena_used = (rc == 0) ? (uint32_t)interpreter->arena_used_bytes() : 0u;
    return rc;
}
#endif

/* C++ runtime pieces the interpreter's virtual destructors refer to; nothing here is ever heap-allocated. */
void __cxa_pure_virtual(void)
{
    for (;;) {
    }
}

}  // extern "C"

void operator delete(void *) noexcept {}
void operator delete(void *, std::size_t) noexcept {}
