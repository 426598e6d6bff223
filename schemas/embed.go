// Package schemas embeds the data files skybutler ships with: the default
// dimension universe (dimensions.yaml) and the instrument definitions
// (instruments/*.yaml). Package lib/dimensions reads them through FS.
package schemas

import "embed"

// FS holds dimensions.yaml and instruments/*.yaml, with paths relative to
// this directory ("dimensions.yaml", "instruments/spherex.yaml").
//
//go:embed dimensions.yaml instruments/*.yaml
var FS embed.FS
