package secretbox

import (
	"bytes"
	"context"
	"testing"
)

func TestLocalSealsBoundToItsOwner(t *testing.T) {
	setting, err := GenerateLocalSetting()
	if err != nil {
		t.Fatal(err)
	}
	kind, value, err := SplitSetting(setting)
	if err != nil || kind != "local" {
		t.Fatalf("setting %q: %v", kind, err)
	}
	box, err := LocalFromSetting(value)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sealed, err := box.Seal(ctx, []byte("whsec_secret"), "channel-a")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("whsec_secret")) {
		t.Fatal("the sealed form holds the secret in clear")
	}
	opened, err := box.Open(ctx, sealed, "channel-a")
	if err != nil || string(opened) != "whsec_secret" {
		t.Fatalf("open: %q %v", opened, err)
	}
	if _, err := box.Open(ctx, sealed, "channel-b"); err == nil {
		t.Fatal("a secret sealed for one channel opened for another")
	}
	other, _ := GenerateLocalSetting()
	_, v2, _ := SplitSetting(other)
	box2, _ := LocalFromSetting(v2)
	if _, err := box2.Open(ctx, sealed, "channel-a"); err == nil {
		t.Fatal("a secret opened under another key")
	}
	if _, _, err := SplitSetting("plain:abc"); err == nil {
		t.Fatal("an unknown setting kind was taken")
	}
}
