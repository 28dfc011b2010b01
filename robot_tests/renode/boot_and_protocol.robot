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
${UART}                 sysbus.usart2

*** Keywords ***
Create Board
    [Arguments]    ${platform}=${PLATFORM}
    Execute Command           mach create "tinyml-disco"
    Execute Command           machine LoadPlatformDescription @${platform}
    Execute Command           sysbus.cpu PerformanceInMips 168
    Execute Command           sysbus LoadELF @${ELF}
    Create Terminal Tester    ${UART}    defaultWaitForEcho=false

# The firmware ends a command on '\n'; Write Line To Uart adds '\r', which the firmware ignores.
Send Command
    [Arguments]    ${command}
    Write Line To Uart    ${command}\n    waitForEcho=false

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
    Wait For Line On Uart    ^OUT [0-9a-f]+ cycles=\\d+$    treatAsRegex=true

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
