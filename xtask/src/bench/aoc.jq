# The per-document AOC rules of `aoc-verify --collection advisory_raw`, as a jq 1.6 filter
# for `cargo xtask bench aoc`: one output line per violating document,
#   {"_id": "<oid>", "codes": ["ERR_AOC_00n", ...]}   (one code per violation found)
# jq cannot hash, so the content_hash comparison of ERR_AOC_005 is not checked here; its
# `signature.present: true` without `sig` part is.

# ERR_AOC_001: derived fields only the policy engine may write.
def forbidden: {"severity": true, "cvss": true, "cvss_vector": true,
  "consensus_provider": true, "reachability": true, "asset_criticality": true,
  "risk_score": true};
# ERR_AOC_007: the top-level fields of an advisory_raw document.
def known: {"_id": true, "tenant": true, "source": true, "upstream": true, "content": true,
  "identifiers": true, "linkset": true, "supersedes": true, "ingested_at": true,
  "created_at": true};
def nonempty_string: type == "string" and length > 0;
def nonempty_date: (type == "object" and (."$date" | nonempty_string)) or nonempty_string;

def key_codes:
  if forbidden[.] then "ERR_AOC_001"
  elif . == "merged_from" then "ERR_AOC_002"
  elif startswith("effective_") then "ERR_AOC_006"
  else empty end;

. as $doc
| [
    # 001, 002, 006: a member name anywhere outside `content` (content.raw is exempt).
    ($doc | del(.content) | .. | objects | keys_unsorted[] | key_codes),
    # 004: required provenance, present and not empty.
    (if ($doc.tenant | nonempty_string) then empty else "ERR_AOC_004" end),
    (if ($doc.source.vendor | nonempty_string) then empty else "ERR_AOC_004" end),
    (if ($doc.upstream.upstream_id | nonempty_string) then empty else "ERR_AOC_004" end),
    (if ($doc.upstream.retrieved_at | nonempty_date) then empty else "ERR_AOC_004" end),
    (if ($doc.upstream.content_hash | type == "string" and test("^sha256:[0-9a-f]{64}$"))
     then empty else "ERR_AOC_004" end),
    (if ($doc.upstream.signature.present | type == "boolean") then empty else "ERR_AOC_004" end),
    (if ($doc.content.format | nonempty_string) then empty else "ERR_AOC_004" end),
    (if ($doc.content.raw | (type == "object" or type == "array") and length > 0)
     then empty else "ERR_AOC_004" end),
    # 005 (signature part): a signature said to be present must be there.
    (if $doc.upstream.signature.present == true
        and ($doc.upstream.signature.sig | nonempty_string | not)
     then "ERR_AOC_005" else empty end),
    # 007: an unknown top-level field (the named ones above are reported under their own code).
    ($doc | keys_unsorted[]
     | select((known[.] or forbidden[.] or . == "merged_from" or startswith("effective_")) | not)
     | "ERR_AOC_007")
  ]
| select(length > 0)
| {_id: ($doc._id | if type == "object" then ."$oid" else . end), codes: .}
