// Command moby-spec measures moby's plugin spec generation in the same run as berth's (bench/spec-rate.ts): per
// operation, oci.DefaultSpec() of Debian's moby 20.10 sources, the steps moby's plugin/v2 InitSpec takes for a
// managed plugin (socket directory created with MkdirAll, devices looked up on the host with oci.DevicesFromPath,
// mounts, namespaces, env, args and capabilities merged), then json.Marshal. The host reads happen on every
// call, as in berth's buildPluginSpec case.
//
// Built in GOPATH mode against golang-github-docker-docker-dev (no network):
//
//	GOPATH=/usr/share/gocode GO111MODULE=off go build -o /tmp/moby-spec ./bench/moby-spec
//	/tmp/moby-spec -plugin test/fixtures/dockerd/api-inspect-raw.json -exec-root /tmp/x -runs 11 -ms 1000 [-print]
//
// It prints one JSON object: {"runs":[ops/s, ...]}.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/oci"
	"github.com/docker/docker/pkg/system"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Where moby mounts the plugin's socket directory inside the plugin.
const runtimeDestination = "/run/docker/plugins"

func withoutNamespace(s *specs.Spec, t specs.LinuxNamespaceType) {
	oci.RemoveNamespace(s, t)
}

func hostMount(path string) types.PluginMount {
	p := path
	return types.PluginMount{Source: &p, Destination: path, Type: "bind", Options: []string{"rbind", "ro"}}
}

// pluginSpec follows moby 20.10's (*v2.Plugin).InitSpec step by step for a plugin object as dockerd stores it.
func pluginSpec(p *types.Plugin, rootfs, execRoot string) (*specs.Spec, error) {
	s := oci.DefaultSpec()
	s.Root = &specs.Root{Path: rootfs}
	userMounts := map[string]bool{}
	for _, m := range p.Settings.Mounts {
		userMounts[m.Destination] = true
	}
	socketDir := filepath.Join(execRoot, p.ID)
	if err := os.MkdirAll(socketDir, 0o700); err != nil {
		return nil, err
	}
	mounts := append(append([]types.PluginMount{}, p.Config.Mounts...), types.PluginMount{
		Source: &socketDir, Destination: runtimeDestination, Type: "bind", Options: []string{"rbind", "rshared"},
	})
	if p.Config.Network.Type != "" {
		if p.Config.Network.Type == "host" {
			withoutNamespace(&s, "network")
		}
		mounts = append(mounts, hostMount("/etc/hosts"), hostMount("/etc/resolv.conf"))
	}
	if p.Config.PidHost {
		withoutNamespace(&s, "pid")
	}
	if p.Config.IpcHost {
		withoutNamespace(&s, "ipc")
	}
	for _, m := range mounts {
		if m.Source == nil {
			return nil, errors.New("mount source is not specified")
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: m.Destination, Type: m.Type, Source: *m.Source, Options: m.Options})
	}
	kept := s.Mounts[:0]
	for _, m := range s.Mounts {
		if !(strings.HasPrefix(m.Destination, "/dev/") && userMounts[m.Destination]) {
			kept = append(kept, m)
		}
	}
	s.Mounts = kept
	if p.Config.PropagatedMount != "" {
		s.Linux.RootfsPropagation = "rshared"
	}
	if p.Config.Linux.AllowAllDevices {
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
	}
	for _, dev := range p.Settings.Devices {
		d, perms, err := oci.DevicesFromPath(*dev.Path, *dev.Path, "rwm")
		if err != nil {
			return nil, err
		}
		s.Linux.Devices = append(s.Linux.Devices, d...)
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, perms...)
	}
	s.Process.Terminal = false
	s.Process.Args = append(append([]string{}, p.Config.Entrypoint...), p.Settings.Args...)
	s.Process.Cwd = p.Config.WorkDir
	if s.Process.Cwd == "" {
		s.Process.Cwd = "/"
	}
	s.Process.Env = append([]string{"PATH=" + system.DefaultPathEnv(runtime.GOOS)}, p.Settings.Env...)
	c := s.Process.Capabilities
	extra := p.Config.Linux.Capabilities
	c.Bounding = append(c.Bounding, extra...)
	c.Permitted = append(c.Permitted, extra...)
	c.Inheritable = append(c.Inheritable, extra...)
	c.Effective = append(c.Effective, extra...)
	return &s, nil
}

func opsPerSecond(p *types.Plugin, rootfs, execRoot string, d time.Duration) (float64, int) {
	n, size := 0, 0
	start := time.Now()
	for time.Since(start) < d {
		for i := 0; i < 256; i++ {
			s, err := pluginSpec(p, rootfs, execRoot)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			out, err := json.Marshal(s)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			size += len(out)
		}
		n += 256
	}
	return float64(n) / time.Since(start).Seconds(), size
}

func main() {
	pluginPath := flag.String("plugin", "", "a plugin inspect JSON as dockerd writes it")
	execRoot := flag.String("exec-root", "", "directory for the plugin socket directories")
	runs := flag.Int("runs", 11, "number of timed runs")
	ms := flag.Int("ms", 1000, "milliseconds per run")
	warmupMs := flag.Int("warmup-ms", 200, "milliseconds of untimed operations first")
	printSpec := flag.Bool("print", false, "print one spec and exit (to compare with berth's)")
	flag.Parse()
	raw, err := os.ReadFile(*pluginPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var p types.Plugin
	if err := json.Unmarshal(raw, &p); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	rootfs := "/var/lib/docker/plugins/" + p.ID + "/rootfs"
	if *printSpec {
		s, err := pluginSpec(&p, rootfs, *execRoot)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		out, _ := json.Marshal(s)
		fmt.Println(string(out))
		return
	}
	d := time.Duration(*ms) * time.Millisecond
	opsPerSecond(&p, rootfs, *execRoot, time.Duration(*warmupMs)*time.Millisecond)
	results := make([]float64, 0, *runs)
	for r := 0; r < *runs; r++ {
		rate, _ := opsPerSecond(&p, rootfs, *execRoot, d)
		results = append(results, rate)
	}
	out, _ := json.Marshal(map[string][]float64{"runs": results})
	fmt.Println(string(out))
}
