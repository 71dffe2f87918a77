#!/bin/sh
# Stands in for the archive's preprocessing container (task "preprocess")
# when the example is simulated without Docker: for each data file of the
# granule it writes a small summary beside it. It follows the step contract:
# the granule's files are in $CUMULUS_INPUT_DIR, what it leaves in
# $CUMULUS_OUTPUT_DIR is added to the granule.
set -eu
for f in "$CUMULUS_INPUT_DIR"/*.nc; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .nc)
	echo "granule=$GRANULE_ID collection=$COLLECTION level=$LEVEL bytes=$(wc -c <"$f")" >"$CUMULUS_OUTPUT_DIR/$name.summary.txt"
	echo "preprocessed $name"
done
