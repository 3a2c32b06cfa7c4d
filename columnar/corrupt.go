package columnar

// Telling a damaged page from a foreign id.
//
// A sample id in the annotations, embeddings or tags table that no sample
// has is normally an id from another dataset. But it is also what a
// damaged data page looks like: Parquet's page checksums are optional,
// arrow-go neither writes nor verifies them, and an uncompressed or snappy
// page has no checksum of its own (a zstd frame has one, so a damaged zstd
// page fails to decompress), so flipped bytes in a page of ids decode as a
// valid-looking id. The two are told apart by distance: an id that is one
// sample's id with a few bytes changed, while every other sample's id is
// far from it, is that id damaged. Among random UUIDs (122 random bits) a
// foreign id lands within 4 of 16 bytes of one of a billion sample ids
// with odds below 10^-14; ids that differ from each other in a few bytes
// only (sequential ids) leave no clear nearest one, and get no diagnosis.

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

const (
	// maxDamagedBytes is the most bytes in which a damaged id may differ
	// from the sample id it was.
	maxDamagedBytes = 4
	// damageMargin is how much farther than that id every other sample's
	// id must be.
	damageMargin = 4
)

// unknownSample is the error for id i of the column ids (at where, e.g.
// "row 17", of the table file path) that no sample has, with a diagnosis
// of a damaged page when the samples' ids are UUIDs and the id is clearly
// one sample's id with a few bytes changed. It runs only on the way to an
// error, so a scan of every id is fine.
func (d *Dataset) unknownSample(ctx context.Context, path, where string, ids *IDs, i int) error {
	msg := fmt.Sprintf("%s: sample id %s is not in samples", path, ids.quoted(i))
	all, err := d.IDs(ctx)
	if err != nil || all.kind != UUIDIDs || ids.kind != UUIDIDs {
		return fmt.Errorf("%s", msg)
	}
	id := ids.uuids[i]
	best, second, nearest := 17, 17, -1
	for k := range all.uuids {
		n := differingBytes(&all.uuids[k], &id)
		switch {
		case n < best:
			second, best, nearest = best, n, k
		case n < second:
			second = n
		}
	}
	if nearest < 0 || best > maxDamagedBytes || second < best+damageMargin {
		return fmt.Errorf("%s", msg)
	}
	return fmt.Errorf("%s, but it is sample %s with %d of its 16 bytes changed (%s): most likely a corrupt data page (flipped bytes in a page without a checksum) of this file, or of the samples table if that one was changed; restore the damaged file",
		msg, all.uuids[nearest], best, where)
}

func differingBytes(a, b *uuid.UUID) int {
	n := 0
	for k := range a {
		if a[k] != b[k] {
			n++
		}
	}
	return n
}
