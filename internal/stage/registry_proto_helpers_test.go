package stage_test

import (
	"io"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"
)

func stringsReader(s string) io.Reader        { return strings.NewReader(s) }
func protoString(s string) protoreflect.Value { return protoreflect.ValueOfString(s) }
func protoUint(u uint64) protoreflect.Value   { return protoreflect.ValueOfUint64(u) }
func protoInt32(i int32) protoreflect.Value   { return protoreflect.ValueOfInt32(i) }
func protoInt64(i int64) protoreflect.Value   { return protoreflect.ValueOfInt64(i) }
func protoFloat(f float64) protoreflect.Value { return protoreflect.ValueOfFloat64(f) }
func protoEnum(n int32) protoreflect.Value {
	return protoreflect.ValueOfEnum(protoreflect.EnumNumber(n))
}
func protoMsg(m protoreflect.Message) protoreflect.Value { return protoreflect.ValueOfMessage(m) }
