/* version.h - firmware version reported in the BOOT line. */
#ifndef VERSION_H
#define VERSION_H

#define FW_VERSION "0.1.0"

#endif /* VERSION_H */
