"""The STM32F4 Discovery (MB997) wiring as data: which pin does what (UM1472, DESIGN.md "Board wiring")."""

from __future__ import annotations

LED_PINS = {"green": 12, "orange": 13, "red": 14, "blue": 15}  # port D
LED_PORT = "D"
SENSOR_CS = ("E", 3)  # accelerometer chip select on SPI1 (PE3)
SENSOR_INT1 = ("E", 0)  # accelerometer INT1 -> EXTI0 (PE0)
USER_BUTTON = ("A", 0)  # B1 (PA0)
