// Runs in trap context: nosplit, no allocation, no heap pointer writes.

package multiboot

// Arg finds key among the whitespace-separated words of cmdline: "key=value" gives
// value, a bare "key" gives "". The first match wins. The value is a substring of
// cmdline; nothing is copied.
//
//go:nosplit
func Arg(cmdline, key string) (value string, ok bool) {
	if len(key) == 0 {
		return "", false
	}
	wordStart := 0
	for i := 0; i < len(cmdline); i++ {
		if !isSpace(cmdline[i]) {
			continue
		}
		if v, found := matchSpan(cmdline, wordStart, i, key); found {
			return v, true
		}
		wordStart = i + 1
	}
	return matchSpan(cmdline, wordStart, len(cmdline), key)
}

// matchSpan matches the word cmdline[start:end]; empty or invalid spans (between
// adjacent separators) never match. The explicit checks spare a bounds-check panic.
//
//go:nosplit
func matchSpan(cmdline string, start, end int, key string) (value string, ok bool) {
	if start < 0 || start >= end || end > len(cmdline) {
		return "", false
	}
	return matchWord(cmdline[start:end], key)
}

// matchWord matches one word against key or key=value.
//
//go:nosplit
func matchWord(word, key string) (value string, ok bool) {
	if len(word) < len(key) || !samePrefix(word, key) {
		return "", false
	}
	if len(word) == len(key) {
		return "", true
	}
	if word[len(key)] != '=' {
		return "", false // a longer key such as "selftests" when looking for "selftest"
	}
	return word[len(key)+1:], true
}

// samePrefix reports whether s starts with prefix (len(s) >= len(prefix)). A byte
// loop rather than == keeps the nosplit chain free of runtime calls.
//
//go:nosplit
func samePrefix(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for k := 0; k < len(prefix); k++ {
		if s[k] != prefix[k] {
			return false
		}
	}
	return true
}

// isSpace treats every control byte as a separator: loaders may pass tabs or newlines.
//
//go:nosplit
func isSpace(c byte) bool { return c <= ' ' }
