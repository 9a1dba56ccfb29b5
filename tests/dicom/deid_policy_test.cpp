#include "tasks/dicom/deid_policy.h"

#include <gtest/gtest.h>

#include "tests/dicom/shared_profile.h"

namespace helix::dicom {
namespace {

using DicomPolicy = SharedProfileTest;

constexpr Tag kPatientName = make_tag(0x0010, 0x0010);
constexpr Tag kStudyDate = make_tag(0x0008, 0x0020);
constexpr Tag kStudyTime = make_tag(0x0008, 0x0030);
constexpr Tag kStudyUid = make_tag(0x0020, 0x000D);
constexpr Tag kStudyDescription = make_tag(0x0008, 0x1030);
constexpr Tag kReferencedImages = make_tag(0x0008, 0x1140);
constexpr Tag kInstitutionName = make_tag(0x0008, 0x0080);
constexpr Tag kRows = make_tag(0x0028, 0x0010);

TEST_F(DicomPolicy, BasicProfileRemovesEmptiesAndReplaces) {
  Policy basic(profile_, {});
  EXPECT_EQ(basic.treat(kPatientName, "PN"), Treatment::kPseudonym);
  EXPECT_EQ(basic.treat(make_tag(0x0010, 0x0020), "LO"), Treatment::kPseudonym);
  EXPECT_EQ(basic.treat(kStudyDate, "DA"), Treatment::kEmpty);
  EXPECT_EQ(basic.treat(kStudyTime, "TM"), Treatment::kEmpty);
  EXPECT_EQ(basic.treat(kStudyUid, "UI"), Treatment::kNewUid);
  EXPECT_EQ(basic.treat(kStudyDescription, "LO"), Treatment::kRemove);
  EXPECT_EQ(basic.treat(kInstitutionName, "LO"), Treatment::kRemove);  // X/Z/D
  // References are kept and their UIDs replaced, so they still resolve.
  EXPECT_EQ(basic.treat(kReferencedImages, "SQ"), Treatment::kDescend);
  EXPECT_EQ(basic.treat(kRows, "US"), Treatment::kKeep);
}

TEST_F(DicomPolicy, OptionsKeepOrCleanWhatTheyName) {
  Policy modified(profile_, {"retain_long_modified_dates", "clean_descriptors"});
  EXPECT_EQ(modified.treat(kStudyDate, "DA"), Treatment::kShiftDate);
  EXPECT_EQ(modified.treat(kStudyTime, "TM"), Treatment::kKeep);
  EXPECT_EQ(modified.treat(kStudyDescription, "LO"), Treatment::kClean);
  Policy full(profile_, {"retain_long_full_dates", "retain_uids", "retain_institution_identity"});
  EXPECT_EQ(full.treat(kStudyDate, "DA"), Treatment::kKeep);
  EXPECT_EQ(full.treat(kStudyUid, "UI"), Treatment::kKeep);
  EXPECT_EQ(full.treat(kInstitutionName, "LO"), Treatment::kKeep);
  // Full dates win over modified dates when both are asked for.
  Policy both(profile_, {"retain_long_full_dates", "retain_long_modified_dates"});
  EXPECT_TRUE(both.full_dates());
  EXPECT_FALSE(both.modified_dates());
}

TEST_F(DicomPolicy, ElementsOutsideTheTableAreTreatedByVr) {
  const Tag unlisted = make_tag(0x0018, 0x9FFE);      // not in PS3.6 nor the table
  const Tag unlisted_uid = make_tag(0x0008, 0x1150);  // Referenced SOP Class UID
  Policy basic(profile_, {});
  ASSERT_TRUE(profile_.action(unlisted_uid, {}).empty());
  EXPECT_EQ(basic.treat(unlisted_uid, "UI"), Treatment::kNewUid);  // walker keeps well-known
  ASSERT_TRUE(profile_.action(unlisted, {}).empty());
  EXPECT_EQ(basic.treat(unlisted, "PN"), Treatment::kEmpty);
  EXPECT_EQ(basic.treat(make_tag(0x0029, 0x0001), "UN"), Treatment::kRemove);
  Policy modified(profile_, {"retain_long_modified_dates"});
  EXPECT_EQ(basic.treat(unlisted, "DA"), Treatment::kEmpty);
  EXPECT_EQ(basic.treat(unlisted, "TM"), Treatment::kEmpty);
  EXPECT_EQ(basic.treat(unlisted, "LO"), Treatment::kKeep);
  EXPECT_EQ(modified.treat(unlisted, "DA"), Treatment::kShiftDate);
  EXPECT_EQ(modified.treat(unlisted, "TM"), Treatment::kKeep);
}

TEST_F(DicomPolicy, UnknownVrAndOverlaysAreRemoved) {
  Policy basic(profile_, {});
  // Patient's Name read with VR UN cannot take a pseudonym safely.
  EXPECT_EQ(basic.treat(kPatientName, "UN"), Treatment::kRemove);
  EXPECT_EQ(basic.treat(make_tag(0x6000, 0x3000), "OW"), Treatment::kRemove);
  EXPECT_EQ(basic.treat(make_tag(0x6002, 0x0010), "US"), Treatment::kRemove);
  EXPECT_EQ(basic.treat(make_tag(0x5000, 0x0005), "US"), Treatment::kRemove);
}

}  // namespace
}  // namespace helix::dicom
