#!/usr/bin/env python3
"""Read in-toto statements with the in-toto Attestation Framework's own Python bindings.

usage: check_statement_intoto.py STATEMENT.json [STATEMENT.json ...]

Each statement is parsed strictly (`google.protobuf.json_format`, unknown fields are errors) into
the framework's `Statement` message and checked with its `validate()`; its predicate is parsed the
same way into the SLSA v1 `Provenance` message. A field our builder writes that the official
schemas do not have, or a required one that is missing, fails here. A tampered copy (an unknown
field in the build definition) must fail, so the check is shown to bite.
"""
import copy
import json
import sys

from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement

SLSA_V1 = "https://slsa.dev/provenance/v1"


def check(doc: dict) -> str:
    st = statement_pb2.Statement()
    json_format.ParseDict(doc, st)
    Statement.copy_from_pb(st).validate()
    if st.predicate_type != SLSA_V1:
        raise ValueError(f"predicateType {st.predicate_type!r}, expected {SLSA_V1}")
    prov = provenance_pb2.Provenance()
    json_format.ParseDict(doc["predicate"], prov)
    if not prov.build_definition.build_type or not prov.run_details.builder.id:
        raise ValueError("buildType or builder.id missing")
    return f"{len(st.subject)} subjects, builder {prov.run_details.builder.id}"


def main() -> int:
    for path in sys.argv[1:]:
        doc = json.load(open(path))
        print(f"ok   {path}: {check(doc)}")
        bad = copy.deepcopy(doc)
        bad["predicate"]["buildDefinition"]["notInSlsaV1"] = True
        try:
            check(bad)
        except Exception as e:  # noqa: BLE001 - any refusal is the expected outcome
            print(f"ok   tampered copy refused: {type(e).__name__}")
        else:
            print(f"FAIL tampered copy of {path} accepted")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
