package objstore

import "context"

// ListAll returns every object whose key starts with prefix, in key order,
// calling s.List page by page.
func ListAll(ctx context.Context, s Store, prefix string) ([]ObjectInfo, error) {
	var all []ObjectInfo
	startAfter := ""
	for {
		page, err := s.List(ctx, prefix, startAfter, DefaultListLimit)
		all = append(all, page...)
		if err != nil || len(page) < DefaultListLimit {
			return all, err
		}
		startAfter = page[len(page)-1].Key
	}
}
