package awsmodel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// ModelsDir finds the AWS models: ../shared/aws-models from the module root
// (the first folder holding go.mod, going up from the working directory,
// which `go test` sets to the package's folder). They sit beside the
// repository, not in it, so a clone elsewhere has none: the error says so.
func ModelsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
	models := filepath.Join(filepath.Dir(dir), "shared", "aws-models")
	if _, err := os.Stat(models); err != nil {
		return "", fmt.Errorf("the AWS API models are not at %s (they live in the project's shared folder beside the repository)", models)
	}
	return models, nil
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*Model{}
)

// LoadService loads <ModelsDir>/<name>.json ("ecs", "lambda",
// "datapipeline", "sfn", "iam", ...) once per process: a model is about a
// megabyte of JSON, and many tests ask for the same one.
func LoadService(name string) (*Model, error) {
	dir, err := ModelsDir()
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, name+".json")
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if m, ok := cache[path]; ok {
		return m, nil
	}
	m, err := Load(path)
	if err != nil {
		return nil, err
	}
	cache[path] = m
	return m, nil
}

// TestModel is [LoadService] for a test: it skips the test, saying why, when
// the models folder is absent, and fails it when a model is there but
// unreadable.
func TestModel(tb testing.TB, name string) *Model {
	tb.Helper()
	if _, err := ModelsDir(); err != nil {
		tb.Skipf("skipping: %v", err)
	}
	m, err := LoadService(name)
	if err != nil {
		tb.Fatalf("loading the %s model: %v", name, err)
	}
	return m
}
