package test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// There is no Docker engine to run docker-compose.yml here, so this test
// loads it with the Compose specification's own loader and checks what the
// deployment depends on.
func TestComposeFileIsValid(t *testing.T) {
	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	details := types.ConfigDetails{
		WorkingDir:  "..",
		ConfigFiles: []types.ConfigFile{{Filename: "docker-compose.yml", Content: b}},
		Environment: types.Mapping{"JQLGATE_SECRET_KEY": "k", "JQLGATE_BOOTSTRAP_CLIENT_SECRET": "s"},
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) { o.SetProjectName("jqlgate", true) })
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	mongo, err := p.GetService("mongo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mongo.Image, "mongo:7") || !slices.Contains(mongo.Command, "--replSet") {
		t.Errorf("mongo service: image %q command %v, want mongo:7 as a replica set", mongo.Image, mongo.Command)
	}
	gw, err := p.GetService("jqlgate")
	if err != nil {
		t.Fatal(err)
	}
	if gw.Build == nil {
		t.Error("jqlgate service is not built from the Dockerfile")
	}
	if dep, ok := gw.DependsOn["mongo"]; !ok || dep.Condition != types.ServiceConditionHealthy {
		t.Errorf("jqlgate does not wait for a healthy mongo: %+v", gw.DependsOn)
	}
	uri := gw.Environment["MONGODB_URI"]
	if uri == nil || !strings.Contains(*uri, "replicaSet=rs0") {
		t.Errorf("MONGODB_URI = %v, want the rs0 replica set", uri)
	}
}

func TestDockerfileBuildsStaticBinary(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"AS build", "CGO_ENABLED=0", "./cmd/jqlgate", "COPY --from=build"} {
		if !strings.Contains(s, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}
