package mongotest

import (
	"encoding/binary"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func buildOpMsg(t *testing.T, body bson.D) []byte {
	t.Helper()
	raw, err := bson.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 21, 21+len(raw))
	binary.LittleEndian.PutUint32(msg[12:16], opMsg)
	msg = append(msg, raw...)
	binary.LittleEndian.PutUint32(msg[0:4], uint32(len(msg)))
	return msg
}

func replyBody(t *testing.T, msg []byte) bson.Raw {
	t.Helper()
	if n := int(binary.LittleEndian.Uint32(msg[0:4])); n != len(msg) {
		t.Fatalf("message length %d, want %d", n, len(msg))
	}
	return bson.Raw(msg[21:])
}

// FerretDB's unique violation on an update becomes MongoDB's DuplicateKey,
// in a command error and in a write error; other replies pass unchanged.
func TestRewriteDupKey(t *testing.T) {
	sqlite := "constraint failed: UNIQUE constraint failed: index 'x_code_1' (2067)"
	got := replyBody(t, rewriteDupKey(buildOpMsg(t, bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: sqlite}, {Key: "code", Value: int32(1)}, {Key: "codeName", Value: "InternalError"}})))
	if code, _ := got.Lookup("code").Int32OK(); code != 11000 || got.Lookup("codeName").StringValue() != "DuplicateKey" {
		t.Errorf("command error rewritten to %v, want code 11000 DuplicateKey", got)
	}

	got = replyBody(t, rewriteDupKey(buildOpMsg(t, bson.D{{Key: "ok", Value: 1.0}, {Key: "n", Value: int32(0)},
		{Key: "writeErrors", Value: bson.A{bson.D{{Key: "index", Value: int32(0)}, {Key: "code", Value: int32(1)}, {Key: "errmsg", Value: sqlite}}}}})))
	we := got.Lookup("writeErrors", "0")
	if code, _ := we.Document().Lookup("code").Int32OK(); code != 11000 {
		t.Errorf("write error rewritten to %v, want code 11000", got)
	}
	if _, err := got.LookupErr("code"); err == nil {
		t.Errorf("reply %v got a top-level code for a write error", got)
	}

	other := buildOpMsg(t, bson.D{{Key: "ok", Value: 0.0}, {Key: "errmsg", Value: "something else"}, {Key: "code", Value: int32(2)}})
	if out := rewriteDupKey(other); string(out) != string(other) {
		t.Error("an unrelated error was rewritten")
	}
}
