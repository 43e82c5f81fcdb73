// The Velero command as Velero's cmd/velero builds it (`velero server`, `velero backup`, ...),
// with one default changed: controller-runtime's manager inside `velero server` would serve a
// second metrics endpoint on :8080 on every interface (Velero offers no flag for it, and its own
// metrics are on --metrics-address). vakt runs Velero on a shared machine where servers listen
// on 127.0.0.1 only and several test instances run at once, so that endpoint is turned off.
package main

import (
	"os"
	"path/filepath"

	"k8s.io/klog/v2"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/vmware-tanzu/velero/pkg/cmd"
	"github.com/vmware-tanzu/velero/pkg/cmd/velero"
)

func main() {
	defer klog.Flush()
	// "0" is controller-runtime's value for "no metrics server".
	metricsserver.DefaultBindAddress = "0"

	baseName := filepath.Base(os.Args[0])
	err := velero.NewCommand(baseName).Execute()
	cmd.CheckError(err)
}
