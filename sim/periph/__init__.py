"""Register-level models of the STM32F407 peripherals and Cortex-M4 system blocks used by the board."""
