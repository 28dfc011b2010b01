*** Comments ***
Renode-style suite (renode-test): samples from a RESD file next to this suite flow through Renode's LIS2DW12
model into the firmware (through the sensor's FIFO), which prints one PRED line per 128-sample window. The file
holds three windows of a board lying still (written with sim/resd.py; tests/test_renode_suites.py checks it).

*** Settings ***
Suite Setup       Setup
Suite Teardown    Teardown
Test Setup        Reset Emulation
Test Teardown     Test Teardown
Resource          ${RENODEKEYWORDS}

*** Variables ***
${ELF}            ${CURDIR}/../../build/mlp/firmware/firmware.elf
${PLATFORM}       ${CURDIR}/../../sim/renode/stm32f4_discovery_tinyml.repl
${RESD}           ${CURDIR}/data/still_3_windows.resd
${MODELS}         ${CURDIR}/../../sim/renode
${UART}           sysbus.usart2
${SENSOR}         sysbus.i2c1_master.lis2dw12
${PRED}           ^PRED seq=\\d+ class=\\d+ label=\\S+ score=\\d+ cycles=\\d+$

*** Keywords ***
Create Board
    # The same settings as sim/renode/platform.py EMULATION_SETTINGS and MODEL_FILES.
    Execute Command           emulation SetGlobalAdvanceImmediately true
    Execute Command           emulation SetGlobalQuantum "0.001"
    Execute Command           mach create "tinyml-disco"
    Execute Command           include @${MODELS}/TinymlSTM32F4_I2C.cs
    Execute Command           include @${MODELS}/TinymlSTM32F4_SYSCFG.cs
    Execute Command           include @${MODELS}/TinymlDWT.cs
    Execute Command           machine LoadPlatformDescription @${PLATFORM}
    Execute Command           sysbus.cpu PerformanceInMips 168
    Execute Command           sysbus LoadELF @${ELF}
    Create Terminal Tester    ${UART}    timeout=10    defaultPauseEmulation=true

# MultiFrequency follows the output data rate the firmware sets (the Normal type would start at rate 0 and
# kill Renode 1.15.3 with a DivideByZeroException, since the firmware has not run yet).
Feed RESD
    Execute Command          ${SENSOR} FeedAccelerationSamplesFromRESD @${RESD} 0 0 Specified 0 MultiFrequency

*** Test Cases ***
Should Classify Every Window Fed From RESD
    Create Board
    Feed RESD
    Wait For Line On Uart    ^BOOT .* sensor=LIS2DW12 bus=i2c1    treatAsRegex=true
    Wait For Line On Uart    ^PRED seq=0 class=\\d+    treatAsRegex=true
    Wait For Line On Uart    ^PRED seq=1 class=\\d+    treatAsRegex=true
    Wait For Line On Uart    ^PRED seq=2 class=\\d+    treatAsRegex=true

Should Print Well Formed Predictions
    Create Board
    Feed RESD
    ${line}=                 Wait For Line On Uart    ${PRED}    treatAsRegex=true
    Should Match Regexp      ${line.line}    ${PRED}

Should Show The Prediction On The LEDs
    Create Board
    # One tester per user LED: PD12 green (class 0), PD13 orange, PD14 red, PD15 blue (class 3).
    ${green}=                Create LED Tester    sysbus.gpioPortD.UserLED    defaultTimeout=0
    ${orange}=               Create LED Tester    sysbus.gpioPortD.led_orange    defaultTimeout=0
    ${red}=                  Create LED Tester    sysbus.gpioPortD.led_red    defaultTimeout=0
    ${blue}=                 Create LED Tester    sysbus.gpioPortD.led_blue    defaultTimeout=0
    Feed RESD
    ${line}=                 Wait For Line On Uart    ^PRED seq=0 class=(\\d+)    treatAsRegex=true
    # The emulation is paused right after the PRED line: exactly the class's LED is lit.
    ${cls}=                  Evaluate    int($line.groups[0])
    Assert LED State         ${{ $cls == 0 }}    testerId=${green}
    Assert LED State         ${{ $cls == 1 }}    testerId=${orange}
    Assert LED State         ${{ $cls == 2 }}    testerId=${red}
    Assert LED State         ${{ $cls == 3 }}    testerId=${blue}
