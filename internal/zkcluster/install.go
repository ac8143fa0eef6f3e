package zkcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrNotInstalled is returned (wrapped) by Start when java or the ZooKeeper
// jars cannot be found.
var ErrNotInstalled = errors.New("zkcluster: ZooKeeper is not installed (apt-get install -y zookeeper)")

// DefaultJarDir is where Debian's zookeeper package puts its jars.
const DefaultJarDir = "/usr/share/java"

// ClasspathDirEnv names the environment variable that overrides DefaultJarDir.
const ClasspathDirEnv = "ZK_CLASSPATH_DIR"

// install describes a usable ZooKeeper installation.
type install struct {
	java      string
	classpath string
}

// findRelease locates java and release r's jars, fetching a Maven release
// into the cache first (see Fetch).
func findRelease(ctx context.Context, r Release) (*install, error) {
	if r.Debian {
		return findInstall()
	}
	java, err := findJava()
	if err != nil {
		return nil, err
	}
	lib, err := Fetch(ctx, r)
	if err != nil {
		return nil, err
	}
	// A fetched release's folder holds exactly its class path.
	return &install{java: java, classpath: filepath.Join(lib, "*")}, nil
}

// findInstall locates java and builds the member class path.
//
// Debian's zookeeper.jar carries a Class-Path manifest naming its
// dependencies (jetty, netty, jackson, commons-*, metrics, snappy, jute), so
// only what the manifest leaves out has to be added: an slf4j binding (else
// the server logs nothing) and the servlet API (else the AdminServer fails
// to start and says so only at debug level). A directory without a plain
// zookeeper.jar, such as the lib directory of an Apache release tarball, is
// used whole.
func findInstall() (*install, error) {
	java, err := findJava()
	if err != nil {
		return nil, err
	}
	dir := os.Getenv(ClasspathDirEnv)
	if dir == "" {
		dir = DefaultJarDir
	}
	if _, err := os.Stat(filepath.Join(dir, "zookeeper.jar")); err != nil {
		matches, _ := filepath.Glob(filepath.Join(dir, "zookeeper-3*.jar"))
		if len(matches) == 0 {
			return nil, fmt.Errorf("%w: no zookeeper.jar in %s (set %s to override)", ErrNotInstalled, dir, ClasspathDirEnv)
		}
		return &install{java: java, classpath: filepath.Join(dir, "*")}, nil
	}
	required := []string{"zookeeper.jar", "slf4j-api.jar", "slf4j-simple.jar", "servlet-api.jar"}
	optional := []string{"zookeeper-jute.jar"}
	var jars []string
	for _, name := range required {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w: missing %s (apt-get install -y libslf4j-java libservlet-api-java)", ErrNotInstalled, p)
		}
		jars = append(jars, p)
	}
	for _, name := range optional {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			jars = append(jars, p)
		}
	}
	return &install{java: java, classpath: strings.Join(jars, string(os.PathListSeparator))}, nil
}

func findJava() (string, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		p := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("java")
	if err != nil {
		return "", fmt.Errorf("%w: java not found in PATH", ErrNotInstalled)
	}
	return p, nil
}

// NettyJars returns the netty jars that Debian's zookeeper.jar manifest
// leaves out but NettyServerCnxnFactory loads (codec, resolver, the native
// transports' common part), plus those it names, from the jar directory
// (DefaultJarDir or $ZK_CLASSPATH_DIR). Jars that are missing are skipped:
// an Apache release's lib directory is used whole and has them already.
func NettyJars() []string {
	dir := os.Getenv(ClasspathDirEnv)
	if dir == "" {
		dir = DefaultJarDir
	}
	var jars []string
	for _, name := range []string{"netty-buffer.jar", "netty-codec.jar", "netty-common.jar", "netty-handler.jar",
		"netty-resolver.jar", "netty-transport.jar", "netty-transport-native-epoll.jar", "netty-transport-native-unix-common.jar"} {
		if p := filepath.Join(dir, name); fileExists(p) {
			jars = append(jars, p)
		}
	}
	return jars
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
