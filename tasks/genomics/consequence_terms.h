// consequence_terms: the consequence words in one VCF record's annotation,
// from bcftools csq (INFO/BCSQ) or snpEff (INFO/ANN). Pure: it parses the
// INFO string handed in.
//
// Both return each distinct term once, because the summary counts records
// per term, not annotations: a variant hitting three transcripts of one gene
// is one missense variant, not three.
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace helix::genomics {

// BCSQ = entry[,entry...]; entry = consequence|gene|transcript|biotype|...
// (bcftools csq manual). An entry "@POS" only points at the record that holds
// a compound consequence, so it is skipped; "missense&inframe_altering"
// gives both words. Empty words are dropped.
std::set<std::string> bcsq_terms(std::string_view bcsq);

// ANN = entry[,entry...]; entry = Allele|Annotation|Impact|... (the snpEff
// ANN specification); the Annotation field (the 2nd) is split on '&'.
std::set<std::string> ann_terms(std::string_view ann);

}  // namespace helix::genomics
