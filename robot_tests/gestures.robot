*** Settings ***
Documentation     Boots the unchanged firmware.elf on a board backend, feeds held-out gestures through the
...               emulated LIS3DSH and checks every PRED line against the labels and against TFLite Micro.
...               Run:  robot robot_tests/            (BACKEND defaults to embedded)
...               or:   robot --variable BACKEND:renode robot_tests/   (skips with the reason when unavailable)
...               or:   robot --variable BACKEND:serial --variable SERIAL_PORT:/dev/ttyUSB0 robot_tests/
...               On serial only the INFER-based tests run; sensor-fed tests skip with the reason.
Library           tinyml_disco.app.robot_library.TinymlBoard    backend=${BACKEND}    model=${MODEL}    build_dir=${BUILD_DIR}
...               serial_port=${SERIAL_PORT}    runtime=${RUNTIME}
Suite Setup       Prepare Suite

*** Variables ***
${BACKEND}        embedded
${RUNTIME}        compiled    # or tflm (TFLite Micro + CMSIS-NN), auto: robot --variable RUNTIME:tflm robot_tests/
${SERIAL_PORT}    ${EMPTY}
${BUILD_DIR}      ${EMPTY}    # artifact folder (default ./build)
${MODEL}          mlp
${SENSOR}         lis3dsh    # or lis2dw12 (on I2C1): scripts/test.sh runs this suite with both
&{SENSOR_NAME}    lis3dsh=LIS3DSH    lis2dw12=LIS2DW12
&{SENSOR_BUS}     lis3dsh=spi1    lis2dw12=i2c1
${PER_CLASS}      25    # 100 windows: the threshold is model.json's int8 accuracy less a binomial margin

*** Keywords ***
Prepare Suite
    Skip If Backend Unavailable
    Prepare Model

*** Test Cases ***
Boot Line Reports Model, Sensor And Clock
    Skip Unless Backend Can    sensor    # a real board reports whatever sensor it carries
    ${boot}=    Boot Board    sensor=${SENSOR}
    Should Be Equal    ${boot}[sensor]    ${SENSOR_NAME}[${SENSOR}]
    Should Be Equal    ${boot}[bus]    ${SENSOR_BUS}[${SENSOR}]
    Should Be Equal    ${boot}[model]    ${MODEL}
    Should Be Equal As Integers    ${boot}[clock_hz]    168000000

Held Out Gestures Are Classified Like TFLite Micro
    Skip Unless Backend Can    sensor
    Boot Board    sensor=${SENSOR}
    ${n}=    Generate Held Out Windows    per_class=${PER_CLASS}
    ${got}=    Feed Windows And Collect Predictions
    Should Be Equal As Integers    ${got}    ${n}
    Predictions Should Be Numbered From    0
    Predictions Should Match TFLM
    ${acc}=    Accuracy Should Meet Model Threshold
    Log    on-device accuracy ${acc}

Exported Data File Replays With Labels
    Skip Unless Backend Can    sensor
    Boot Board    sensor=${SENSOR}
    ${n}=    Load Windows From File    ${CURDIR}/../build/${MODEL}/data/device_windows.csv
    Should Be Equal As Integers    ${n}    20    # export_device_data: 5 windows per class
    Feed Windows And Collect Predictions
    Predictions Should Match TFLM
    Accuracy Should Meet Model Threshold

Infer Command Is Bit Exact With TFLite Micro
    Boot Board
    Infer Should Match TFLM    count=40    seed=3

Board Without Sensor Reports It And Keeps Serving
    Skip Unless Backend Can    sensor    # the sensor of a real board cannot be removed from here
    ${boot}=    Boot Board    sensor=none
    Should Be Equal    ${boot}[sensor]    none
    Uart Should Contain Line    ^ERR code=no_sensor
    Infer Should Match TFLM    count=5    seed=4

Bad Commands Get Clear Errors
    Boot Board
    ${lines}=    Send Line    HELLO
    Should Match Regexp    ${lines}[0]    ^ERR code=bad_command
    ${lines}=    Send Line    INFER 0102
    Should Match Regexp    ${lines}[0]    ^ERR code=bad_length expected=\\d+
    ${lines}=    Send Line    INFER zz0000000000
    Should Match Regexp    ${lines}[0]    ^ERR code=bad_hex
