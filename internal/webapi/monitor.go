package webapi

import (
	"net/http"

	"github.com/bigfather/bigfather/internal/api"
	"github.com/bigfather/bigfather/internal/auth"
)

// monitorAPI is the Monitor page's API family: every status, check and consumer group the watcher judged.
type monitorAPI struct{ p *Platform }

func (m monitorAPI) Routes() []api.Route {
	return []api.Route{
		{Method: http.MethodGet, Path: "/monitor", Role: auth.Viewer,
			Summary: "The monitor's last sample: readiness checks, each pipeline's status, partitions (lag in records and seconds) and tables (freshness, files, snapshots), every other consumer group's status, and the Kafka cluster's brokers and partitions",
			Handler: m.get},
	}
}

func (m monitorAPI) get(*api.Request) (any, error) {
	if m.p.Watcher == nil {
		return nil, api.Unavailable("this process runs no monitor")
	}
	return m.p.Watcher.Report(), nil
}
