package convert

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// maxSanitizedName is the length a rewritten name is cut to (a DNS label).
const maxSanitizedName = 63

// objectName returns name if it is a valid Kubernetes object name (a DNS-1123
// subdomain), else a rewritten name: lower-cased, every character a name
// cannot hold ("_" included) turned into "-", leading non-letters dropped,
// cut to 63 characters, trailing non-alphanumerics dropped. ok is false when
// nothing usable is left.
func objectName(name string) (out string, ok bool) {
	if len(validation.IsDNS1123Subdomain(name)) == 0 {
		return name, true
	}
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	out = strings.TrimLeftFunc(b.String(), func(r rune) bool { return r < 'a' || r > 'z' })
	if len(out) > maxSanitizedName {
		out = out[:maxSanitizedName]
	}
	out = strings.TrimRightFunc(out, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') })
	if out == "" || len(validation.IsDNS1123Subdomain(out)) > 0 {
		return "", false
	}
	return out, true
}
