package inspect

import (
	"testing"

	"github.com/ferrolb/ferrolb/internal/cli/sessions"
	"github.com/ferrolb/ferrolb/internal/k8s/confstate"
	"github.com/ferrolb/ferrolb/internal/k8s/speaker"
)

// TestContract pins the names this package reads to the ones the
// controller and the speaker write (the CLI keeps its own copies so that
// the binary does not link the speaker).
func TestContract(t *testing.T) {
	pairs := []struct{ what, ours, theirs string }{
		{"L2/BGP status node label", labelStatusNode, speaker.LabelNode},
		{"L2/BGP status service name label", labelServiceName, speaker.LabelServiceName},
		{"L2/BGP status service namespace label", labelServiceNamespace, speaker.LabelServiceNamespace},
		{"ConfigurationState component label", labelComponent, confstate.LabelComponent},
		{"ConfigurationState node label", labelNodeName, confstate.LabelNode},
		{"controller object name", controllerStateName, confstate.ControllerOptions("ns").Name},
		{"speaker object name", speakerStatePrefix + "n1", confstate.SpeakerOptions("ns", "n1").Name},
		{"controller component value", componentController, confstate.ControllerOptions("ns").Labels[confstate.LabelComponent]},
		{"speaker component value", componentSpeaker, confstate.SpeakerOptions("ns", "n1").Labels[confstate.LabelComponent]},
		{"sessions condition type", sessions.ConditionType, confstate.TypeBGPSessions},
		{"sessions reason AllEstablished", sessions.ReasonAllEstablished, confstate.ReasonAllEstablished},
		{"sessions reason SessionsDown", sessions.ReasonSessionsDown, confstate.ReasonSessionsDown},
		{"sessions reason NoPeers", sessions.ReasonNoPeers, confstate.ReasonNoPeers},
	}
	for _, p := range pairs {
		if p.ours != p.theirs {
			t.Errorf("%s: the CLI reads %q, the components write %q", p.what, p.ours, p.theirs)
		}
	}
}
