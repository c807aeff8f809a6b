package awsedge

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// kmsStandIn answers GenerateDataKey and Decrypt as KMS's JSON protocol does, "encrypting" a data
// key by prefixing it with its encryption context (enough to prove the box sends and checks it).
func kmsStandIn(t *testing.T) (*kms.Client, *int) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		var in struct {
			EncryptionContext map[string]string
			CiphertextBlob    []byte
		}
		json.NewDecoder(r.Body).Decode(&in)
		ctx := []byte(in.EncryptionContext["channelId"] + "|")
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		switch target := r.Header.Get("X-Amz-Target"); target {
		case "TrentService.GenerateDataKey":
			key := make([]byte, 32)
			rand.Read(key)
			json.NewEncoder(w).Encode(map[string]any{"Plaintext": key, "CiphertextBlob": append(ctx, key...), "KeyId": "k"})
		case "TrentService.Decrypt":
			if !bytes.HasPrefix(in.CiphertextBlob, ctx) {
				w.WriteHeader(400)
				w.Write([]byte(`{"__type":"InvalidCiphertextException"}`))
				return
			}
			json.NewEncoder(w).Encode(map[string]any{"Plaintext": in.CiphertextBlob[len(ctx):], "KeyId": "k"})
		default:
			t.Errorf("unexpected KMS call %s", target)
		}
	}))
	t.Cleanup(srv.Close)
	c := kms.New(kms.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	return c, &calls
}

// TestKMSBoxSealsAnyLength: values larger than KMS's own 4 KB Encrypt limit (a receiver's token)
// seal and open; a value sealed for one channel does not open for another.
func TestKMSBoxSealsAnyLength(t *testing.T) {
	client, calls := kmsStandIn(t)
	box := KMSBox{Client: client, KeyArn: "arn:aws:kms:eu-west-1:111122223333:key/k"}
	ctx := context.Background()
	big := []byte(strings.Repeat("t", 10_000))
	sealed, err := box.Seal(ctx, big, "chan-a")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, big[:100]) {
		t.Fatal("sealed in clear")
	}
	opened, err := box.Open(ctx, sealed, "chan-a")
	if err != nil || !bytes.Equal(opened, big) {
		t.Fatalf("open: %v", err)
	}
	if _, err := box.Open(ctx, sealed, "chan-b"); err == nil {
		t.Fatal("a value sealed for one channel opened for another")
	}
	if _, err := box.Open(ctx, []byte{0xff}, "chan-a"); err == nil {
		t.Fatal("garbage opened")
	}
	if *calls != 3 {
		t.Fatalf("%d KMS calls, want 3 (one data key, two decrypts)", *calls)
	}
}
