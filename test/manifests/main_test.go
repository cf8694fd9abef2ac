package manifests

import (
	"testing"

	"github.com/ferrolb/ferrolb/test/kubeapi"
)

func TestMain(m *testing.M) { kubeapi.Main(m) }
