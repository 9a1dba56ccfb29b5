// Burned-in text under the Clean Pixel Data option: blanked where a rule
// matches (also in compressed pixels), refused where none does.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include <vector>

#include "tasks/dicom/deidentifier.h"
#include "tasks/dicom/pixel_cleaner.h"
#include "tests/dicom/shared_profile.h"

namespace helix::dicom {
namespace {

constexpr Uint16 kRows = 6, kColumns = 8;

// Every sample nonzero and distinct enough that a wrong offset shows.
std::vector<Uint8> pattern(std::size_t size) {
  std::vector<Uint8> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<Uint8>(1 + i % 250);
  return bytes;
}

void image(DcmDataset& ds, Uint16 samples, Uint16 bits, Uint16 planar, int frames,
           const std::vector<Uint8>& pixels) {
  ds.putAndInsertString(DCM_SOPClassUID, UID_UltrasoundMultiframeImageStorage);
  ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.99.7.1");
  ds.putAndInsertString(DCM_PatientID, "PID0007");
  ds.putAndInsertString(DCM_Modality, "US");
  ds.putAndInsertString(DCM_Manufacturer, "HelixSim");
  ds.putAndInsertString(DCM_ManufacturerModelName, "Echo-1");
  ds.putAndInsertString(DCM_BurnedInAnnotation, "YES");
  ds.putAndInsertUint16(DCM_Rows, kRows);
  ds.putAndInsertUint16(DCM_Columns, kColumns);
  ds.putAndInsertUint16(DCM_SamplesPerPixel, samples);
  ds.putAndInsertString(DCM_PhotometricInterpretation, samples == 3 ? "RGB" : "MONOCHROME2");
  if (samples == 3) ds.putAndInsertUint16(DCM_PlanarConfiguration, planar);
  ds.putAndInsertUint16(DCM_BitsAllocated, bits);
  ds.putAndInsertUint16(DCM_BitsStored, bits);
  ds.putAndInsertUint16(DCM_HighBit, bits - 1);
  ds.putAndInsertUint16(DCM_PixelRepresentation, 0);
  ds.putAndInsertString(DCM_NumberOfFrames, std::to_string(frames).c_str());
  if (bits == 8) {
    ds.putAndInsertUint8Array(DCM_PixelData, pixels.data(), pixels.size());
  } else {
    std::vector<Uint16> words(pixels.size() / 2);
    for (std::size_t i = 0; i < words.size(); ++i)
      words[i] = static_cast<Uint16>(pixels[2 * i] | pixels[2 * i + 1] << 8);
    ds.putAndInsertUint16Array(DCM_PixelData, words.data(), words.size());
  }
}

std::vector<Uint8> pixels_of(DcmDataset& ds) {
  DcmElement* element = nullptr;
  EXPECT_TRUE(ds.findAndGetElement(DCM_PixelData, element).good());
  Uint8* data = nullptr;
  EXPECT_TRUE(element->getUint8Array(data).good());
  return std::vector<Uint8>(data, data + element->getLength());
}

// Region x 1..3, y 2..3 (width 3, height 2) inside an 8x6 image.
const char* kRules = R"({"rules": [{"name": "echo header",
  "match": {"Modality": "US", "Manufacturer": "HelixSim", "ManufacturerModelName": "Echo-*",
            "Rows": 6, "Columns": 8},
  "regions": [{"x": 1, "y": 2, "width": 3, "height": 2}, {"x": 7, "y": 5, "width": 9, "height": 9}]}]})";

bool inside(std::size_t x, std::size_t y) {
  return (x >= 1 && x < 4 && y >= 2 && y < 4) || (x == 7 && y == 5);
}

class DicomPixelCleaner : public SharedProfileTest {
 protected:
  void SetUp() override {
    SharedProfileTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto rules = PixelRules::parse(kRules);
    ASSERT_TRUE(rules) << rules.error().to_string();
    rules_ = std::move(*rules);
  }
  Result<DeidOutcome> clean(DcmDataset& ds, std::set<std::string> options = {"clean_pixel_data"}) {
    Policy policy(profile_, options);
    Deidentifier deid(profile_, policy, {"site-secret", {}}, {}, rules_);
    return deid.apply(ds);
  }
  // Checks every sample of every frame: zero inside the regions, the
  // original value outside.
  void expect_blanked(const std::vector<Uint8>& before, const std::vector<Uint8>& after,
                      std::size_t samples, std::size_t bytes, bool planar, int frames) {
    ASSERT_EQ(before.size(), after.size());
    const std::size_t frame_bytes = kRows * kColumns * samples * bytes;
    for (int f = 0; f < frames; ++f) {
      for (std::size_t y = 0; y < kRows; ++y) {
        for (std::size_t x = 0; x < kColumns; ++x) {
          for (std::size_t s = 0; s < samples; ++s) {
            const std::size_t at = f * frame_bytes + (planar ? ((s * kRows + y) * kColumns + x)
                                                             : ((y * kColumns + x) * samples + s)) *
                                                         bytes;
            for (std::size_t b = 0; b < bytes; ++b) {
              EXPECT_EQ(after[at + b], inside(x, y) ? 0 : before[at + b])
                  << "frame " << f << " x " << x << " y " << y << " sample " << s;
            }
          }
        }
      }
    }
  }
  PixelRules rules_;
};

TEST_F(DicomPixelCleaner, BlanksRegionsInEveryFrameOfRgbPlanarImages) {
  for (Uint16 planar : {0, 1}) {
    DcmDataset ds;
    const auto before = pattern(kRows * kColumns * 3 * 2);
    image(ds, 3, 8, planar, 2, before);
    auto outcome = clean(ds);
    ASSERT_TRUE(outcome) << outcome.error().to_string();
    EXPECT_EQ(outcome->pixel_rule, "echo header");
    EXPECT_EQ(outcome->changes.at("(7FE0,0010) blank"), 2);
    expect_blanked(before, pixels_of(ds), 3, 1, planar == 1, 2);
    OFString flag;
    ds.findAndGetOFString(DCM_BurnedInAnnotation, flag);
    EXPECT_EQ(flag, "NO");  // the text is gone
  }
}

TEST_F(DicomPixelCleaner, BlanksSixteenBitSamplesWhole) {
  DcmDataset ds;
  const auto before = pattern(kRows * kColumns * 2);
  image(ds, 1, 16, 0, 1, before);
  auto outcome = clean(ds);
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  expect_blanked(before, pixels_of(ds), 1, 2, false, 1);
}

TEST_F(DicomPixelCleaner, DecodesRlePixelsBeforeBlankingAndDropsTheCompressedFrames) {
  DcmRLEEncoderRegistration::registerCodecs();
  DcmFileFormat file;
  DcmDataset& ds = *file.getDataset();
  const auto before = pattern(kRows * kColumns);
  image(ds, 1, 8, 0, 1, before);
  ASSERT_TRUE(ds.chooseRepresentation(EXS_RLELossless, nullptr).good());
  ASSERT_EQ(ds.getCurrentXfer(), EXS_RLELossless);
  auto outcome = clean(ds);
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  EXPECT_EQ(ds.getCurrentXfer(), EXS_LittleEndianExplicit);
  expect_blanked(before, pixels_of(ds), 1, 1, false, 1);
  // Writing it as RLE again would need the dropped compressed form.
  EXPECT_FALSE(ds.canWriteXfer(EXS_RLELossless, EXS_LittleEndianExplicit));
  DcmRLEEncoderRegistration::cleanup();
}

TEST_F(DicomPixelCleaner, RefusesBurnedInTextNoRuleCovers) {
  DcmDataset other_vendor;
  image(other_vendor, 1, 8, 0, 1, pattern(kRows * kColumns));
  other_vendor.putAndInsertString(DCM_Manufacturer, "UnknownVendor");
  auto outcome = clean(other_vendor);
  ASSERT_FALSE(outcome);
  EXPECT_NE(outcome.error().to_string().find("no pixel rule matches"), std::string::npos);
  EXPECT_NE(outcome.error().to_string().find("UnknownVendor"), std::string::npos);

  DcmDataset without_option;
  image(without_option, 1, 8, 0, 1, pattern(kRows * kColumns));
  outcome = clean(without_option, {});
  ASSERT_FALSE(outcome);
  EXPECT_NE(outcome.error().to_string().find("clean_pixel_data option is not chosen"),
            std::string::npos);
}

// DCMTK 3.6.7's JPEG decoder would loop forever on this fragment (FF 01
// before the frame header); it must be refused before any decode.
TEST_F(DicomPixelCleaner, RefusesJpegThatWouldHangTheDecoder) {
  DcmDataset ds;
  image(ds, 1, 8, 0, 1, pattern(kRows * kColumns));
  auto* fragments = new DcmPixelSequence(DcmTag(DCM_PixelData, EVR_OB));
  fragments->insert(new DcmPixelItem(DcmTag(DCM_Item, EVR_OB)));  // empty offset table
  const Uint8 jpeg[] = {0xFF, 0xD8, 0xFF, 0x01, 0xFF, 0xC3, 0x00, 0x0B, 0x08, 0x00};
  auto* fragment = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
  fragment->putUint8Array(jpeg, sizeof jpeg);
  fragments->insert(fragment);
  auto* pixels = new DcmPixelData(DCM_PixelData);
  pixels->putOriginalRepresentation(EXS_JPEGProcess14SV1, nullptr, fragments);
  ASSERT_TRUE(ds.insert(pixels, true).good());
  ds.updateOriginalXfer();
  ASSERT_EQ(ds.getCurrentXfer(), EXS_JPEGProcess14SV1);
  auto outcome = clean(ds);
  ASSERT_FALSE(outcome);
  EXPECT_NE(outcome.error().to_string().find("TEM marker (FF 01)"), std::string::npos)
      << outcome.error().to_string();
}

TEST_F(DicomPixelCleaner, RefusesPixelsItCannotBlank) {
  DcmDataset short_pixels;
  image(short_pixels, 1, 8, 0, 3, pattern(kRows * kColumns * 2));  // 3 frames declared
  auto outcome = clean(short_pixels);
  ASSERT_FALSE(outcome);
  EXPECT_NE(outcome.error().to_string().find("shorter than its 3 frame"), std::string::npos);

  DcmDataset one_bit;
  image(one_bit, 1, 8, 0, 1, pattern(kRows * kColumns));
  one_bit.putAndInsertUint16(DCM_BitsAllocated, 1);
  outcome = clean(one_bit);
  ASSERT_FALSE(outcome);
  EXPECT_NE(outcome.error().to_string().find("Bits Allocated (0028,0100) is 1"), std::string::npos);
}

}  // namespace
}  // namespace helix::dicom
