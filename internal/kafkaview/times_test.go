package kafkaview

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestRecordTimes(t *testing.T) {
	tb := startBroker(t)
	tb.createTopic(t, "times", 2, nil)
	t0 := time.UnixMilli(1_700_000_000_000)
	var recs []*kgo.Record
	for i := range 5 {
		recs = append(recs, &kgo.Record{Topic: "times", Partition: 0, Value: []byte("x"), Timestamp: t0.Add(time.Duration(i) * time.Second)})
	}
	tb.produce(t, recs...)
	v := tb.view(t)
	got, err := v.RecordTimes(ctxT(t), "times", map[int32]int64{0: 3, 1: 0})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Equal(t0.Add(3*time.Second)) {
		t.Errorf("RecordTimes = %v, want only partition 0 at %v (partition 1 is empty)", got, t0.Add(3*time.Second))
	}
	if _, err := v.RecordTimes(ctxT(t), "no-such-topic", map[int32]int64{0: 0}); err == nil {
		t.Error("RecordTimes on a missing topic: no error")
	}
}
