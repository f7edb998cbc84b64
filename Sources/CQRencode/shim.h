// Debian's libqrencode (libqrencode-dev, 4.1) for the join code at GET /qr.svg.
// Swift imports everything Stelling uses (QRcode_encodeString8bit, QRcode_free, the QRcode
// struct, QR_ECLEVEL_*) directly, so this header holds no wrappers: add one here, as a
// documented static inline function, only for what Swift cannot import.
#ifndef STELLING_CQRENCODE_SHIM_H
#define STELLING_CQRENCODE_SHIM_H

#include <qrencode.h>

#endif
