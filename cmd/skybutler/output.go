package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// table is a query result: named columns and rows of printable values.
type table struct {
	cols []string
	rows [][]any
}

// printTable writes t as aligned columns under a dashed header, or as a JSON
// array of objects (format "json").
func printTable(w io.Writer, format string, t table) error {
	switch format {
	case "", "table":
		return printAligned(w, t)
	case "json":
		out := make([]map[string]any, 0, len(t.rows))
		for _, r := range t.rows {
			obj := make(map[string]any, len(t.cols))
			for i, c := range t.cols {
				obj[c] = r[i]
			}
			out = append(out, obj)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	default:
		return fmt.Errorf("--format %q: want table or json", format)
	}
}

func printAligned(w io.Writer, t table) error {
	if len(t.rows) == 0 {
		_, err := fmt.Fprintln(w, "No results.")
		return err
	}
	cells := make([][]string, len(t.rows))
	width := make([]int, len(t.cols))
	for i, c := range t.cols {
		width[i] = utf8.RuneCountInString(c)
	}
	for r, row := range t.rows {
		cells[r] = make([]string, len(row))
		for i, v := range row {
			cells[r][i] = cellText(v)
			width[i] = max(width[i], utf8.RuneCountInString(cells[r][i]))
		}
	}
	line := func(vals []string) string {
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(v)
			if i < len(vals)-1 {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(v)))
			}
		}
		return b.String() + "\n"
	}
	dashes := make([]string, len(t.cols))
	for i := range t.cols {
		dashes[i] = strings.Repeat("-", width[i])
	}
	var b strings.Builder
	b.WriteString(line(t.cols))
	b.WriteString(line(dashes))
	for _, row := range cells {
		b.WriteString(line(row))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format("2006-01-02T15:04:05.000000")
	case float64:
		return fmt.Sprintf("%g", x)
	case []string:
		return strings.Join(x, ", ")
	default:
		return fmt.Sprint(x)
	}
}

// globMatcher matches names against shell-style patterns (* and ?, matching
// "/" too, as daf_butler's fnmatch does). No patterns match everything.
func globMatcher(patterns []string) (func(string) bool, error) {
	if len(patterns) == 0 {
		return func(string) bool { return true }, nil
	}
	var res []*regexp.Regexp
	for _, p := range patterns {
		var b strings.Builder
		b.WriteString("^")
		for _, r := range p {
			switch r {
			case '*':
				b.WriteString(".*")
			case '?':
				b.WriteString(".")
			default:
				b.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		b.WriteString("$")
		re, err := regexp.Compile(b.String())
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		res = append(res, re)
	}
	return func(s string) bool {
		for _, re := range res {
			if re.MatchString(s) {
				return true
			}
		}
		return false
	}, nil
}
