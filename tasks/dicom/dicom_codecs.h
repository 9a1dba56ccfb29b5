// DCMTK's decoders for compressed Pixel Data (RLE, JPEG, JPEG-LS), for the
// parts that must see pixels: blanking burned-in text and TIFF export.
#pragma once

#include "common/error.h"

class DcmDataset;

namespace helix::dicom {

// Registers them once per process; safe to call from any thread (DCMTK's
// own registration is not).
void register_pixel_decoders();

// Corruption when the compressed pixels would hang DCMTK's decoder instead
// of failing: DCMTK 3.6.7's JPEG bit-depth scan does not advance past a TEM
// marker (FF 01), so a fragment holding one loops forever (found by the
// dicom_deid fuzzer; the loop is in DJCodecDecoder::scanJpegDataForBitDepth).
// Conservatively any JPEG fragment with the bytes FF 01 is refused:
// entropy-coded data never holds them and headers of real images do not.
// Call before any decode.
Result<void> check_decodable(DcmDataset& dataset);

}  // namespace helix::dicom
