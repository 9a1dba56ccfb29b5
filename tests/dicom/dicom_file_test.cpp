#include "tasks/dicom/dicom_file.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace helix::dicom {
namespace {

namespace fs = std::filesystem;

class DicomFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("helix-dicom-file-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    DcmFileFormat file;
    DcmDataset& ds = *file.getDataset();
    ds.putAndInsertString(DCM_SOPClassUID, UID_CTImageStorage);
    ds.putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.99.7.1");
    ds.putAndInsertString(DCM_PatientName, "Doe^Jane");
    ds.putAndInsertUint16(DCM_Rows, 16);
    ds.putAndInsertUint16(DCM_Columns, 16);
    ds.putAndInsertUint16(DCM_SamplesPerPixel, 1);
    ds.putAndInsertUint16(DCM_BitsAllocated, 16);
    std::vector<Uint16> pixels(256, 1000);
    ds.putAndInsertUint16Array(DCM_PixelData, pixels.data(), pixels.size());
    whole_ = (dir_ / "whole.dcm").string();
    ASSERT_TRUE(file.saveFile(whole_.c_str(), EXS_LittleEndianExplicit).good());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string cut(std::uintmax_t keep) {
    std::ifstream in(whole_, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    const std::string path = (dir_ / ("cut" + std::to_string(keep) + ".dcm")).string();
    std::ofstream(path, std::ios::binary) << bytes.substr(0, keep);
    return path;
  }

  fs::path dir_;
  std::string whole_;
};

TEST_F(DicomFile, LoadsAWholeInstanceAndWritesItAtomically) {
  auto loaded = load_instance(whole_);
  ASSERT_TRUE(loaded) << loaded.error().message();
  DcmDataset& ds = *(*loaded)->getDataset();
  ds.putAndInsertString(DCM_SOPInstanceUID, "2.25.1234");
  const std::string out = (dir_ / "out.dcm").string();
  ASSERT_TRUE(save_instance(**loaded, out));
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  auto again = load_instance(out);
  ASSERT_TRUE(again) << again.error().message();
  OFString media;
  (*again)->getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPInstanceUID, media);
  EXPECT_EQ(std::string(media.c_str()), "2.25.1234");  // follows the SOP Instance UID
}

TEST_F(DicomFile, RefusesTruncatedAndForeignFilesWithAReason) {
  const auto size = fs::file_size(whole_);
  auto short_pixels = load_instance(cut(size - 100));
  ASSERT_FALSE(short_pixels);
  EXPECT_EQ(short_pixels.error().code(), ErrorCode::kCorruption);
  auto short_header = load_instance(cut(200));
  ASSERT_FALSE(short_header);
  const std::string text = (dir_ / "notes.txt").string();
  std::ofstream(text) << "hello world, this is not DICOM\n";
  auto foreign = load_instance(text);
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code(), ErrorCode::kCorruption);
  auto missing = load_instance((dir_ / "absent.dcm").string());
  EXPECT_FALSE(missing);
}

TEST_F(DicomFile, RefusesPixelDataShorterThanTheImage) {
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile(whole_.c_str()).good());
  file.getDataset()->putAndInsertUint16(DCM_Rows, 64);  // now 16 x 64 pixels are claimed
  const std::string lying = (dir_ / "lying.dcm").string();
  ASSERT_TRUE(file.saveFile(lying.c_str(), EXS_LittleEndianExplicit).good());
  auto loaded = load_instance(lying);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().message().find("Pixel Data"), std::string::npos);
}

}  // namespace
}  // namespace helix::dicom
