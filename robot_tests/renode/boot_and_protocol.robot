*** Comments ***
Renode-style suite (renode-test). The firmware and platform paths are relative to this file; build the
firmware first (scripts/demo.sh or `tinyml-disco build`). Override with --variable ELF:/abs/firmware.elf.

*** Settings ***
Suite Setup       Setup
Suite Teardown    Teardown
Test Setup        Reset Emulation
Test Teardown     Test Teardown
Resource          ${RENODEKEYWORDS}

*** Variables ***
${ELF}                  ${CURDIR}/../../build/mlp/firmware/firmware.elf
${PLATFORM}             ${CURDIR}/../../sim/renode/stm32f4_discovery_tinyml.repl
${PLATFORM_NO_SENSOR}   ${CURDIR}/../../sim/renode/stm32f4_discovery_tinyml_nosensor.repl
${MODELS}               ${CURDIR}/../../sim/renode
${UART}                 sysbus.usart2

*** Keywords ***
Create Board
    [Arguments]    ${platform}=${PLATFORM}
    # The same settings as sim/renode/platform.py EMULATION_SETTINGS and MODEL_FILES.
    Execute Command           emulation SetGlobalAdvanceImmediately true
    Execute Command           emulation SetGlobalQuantum "0.001"
    Execute Command           mach create "tinyml-disco"
    Execute Command           include @${MODELS}/TinymlSTM32F4_I2C.cs
    Execute Command           include @${MODELS}/TinymlSTM32F4_SYSCFG.cs
    Execute Command           include @${MODELS}/TinymlDWT.cs
    Execute Command           machine LoadPlatformDescription @${platform}
    Execute Command           sysbus.cpu PerformanceInMips 168
    Execute Command           sysbus LoadELF @${ELF}
    Create Terminal Tester    ${UART}    timeout=10    defaultPauseEmulation=true

# Write Line To Uart ends the line with '\r', which ends a command line (see the README's protocol).
Send Command
    [Arguments]    ${command}
    Write Line To Uart    ${command}    waitForEcho=false

*** Test Cases ***
Should Boot At 168 MHz With The I2C Accelerometer
    Create Board
    Wait For Line On Uart    ^BOOT fw=\\S+ model=\\S+ sensor=LIS2DW12 bus=i2c1 clock_hz=168000000$    treatAsRegex=true

Should Repeat The Boot Line On INFO
    Create Board
    Wait For Line On Uart    ^BOOT     treatAsRegex=true
    Send Command             INFO
    Wait For Line On Uart    ^BOOT     treatAsRegex=true

Should Answer INFER With An Output Tensor And Cycles
    Create Board
    Wait For Line On Uart    ^BOOT     treatAsRegex=true
    Send Command             INFER 000000000000
    ${out}=                  Wait For Line On Uart    ^OUT ([0-9a-f]+) cycles=(\\d+)$    treatAsRegex=true
    # The exact DWT (TinymlDWT.cs) counts the inference: never 0 as with 1.15.3's own DWT.
    Should Be True           int($out.groups[1]) > 0

Should Reject Bad Commands
    Create Board
    Wait For Line On Uart    ^BOOT     treatAsRegex=true
    Send Command             HELLO
    Wait For Line On Uart    ^ERR code=bad_command    treatAsRegex=true
    Send Command             INFER 0102
    Wait For Line On Uart    ^ERR code=bad_length expected=\\d+    treatAsRegex=true

Should Report A Missing Sensor And Keep Serving
    Create Board             ${PLATFORM_NO_SENSOR}
    Wait For Line On Uart    ^BOOT .* sensor=none    treatAsRegex=true
    Wait For Line On Uart    ^ERR code=no_sensor    treatAsRegex=true
    Send Command             INFO
    Wait For Line On Uart    ^BOOT     treatAsRegex=true
