package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// errNotLoopback refuses a target that is not this machine: vaxload is a
// tool to measure one's own server, never to load someone else's.
var errNotLoopback = errors.New("vaxload only loads a server on this machine: the target must resolve to loopback addresses only")

// loopbackTarget checks rawURL and resolves its host. Every address the host
// resolves to must be a loopback address; the returned address is the one
// every connection dials, so a later DNS answer cannot redirect the load.
func loopbackTarget(ctx context.Context, rawURL string) (base *url.URL, dial string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("--target %q: %v", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, "", fmt.Errorf("--target %q: want an http:// or https:// URL", rawURL)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, "", fmt.Errorf("--target %q: want scheme://host:port[/path] without user, query or fragment", rawURL)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		addrs, err := net.DefaultResolver.LookupIPAddr(rctx, host)
		if err != nil {
			return nil, "", fmt.Errorf("--target %q: %v", rawURL, err)
		}
		for _, a := range addrs {
			if a.Zone != "" {
				return nil, "", fmt.Errorf("--target %q: %w (got the zoned address %s)", rawURL, errNotLoopback, a)
			}
			ips = append(ips, a.IP)
		}
	}
	if len(ips) == 0 {
		return nil, "", fmt.Errorf("--target %q: the host has no address", rawURL)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return nil, "", fmt.Errorf("--target %q: %w (%s resolves to %s)", rawURL, errNotLoopback, host, ip)
		}
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, net.JoinHostPort(ips[0].String(), port), nil
}

// newHTTPClient is a client whose every connection goes to dial (the checked
// loopback address), whatever host a URL names, and which follows no
// redirect: the API never redirects, and a redirect must not lead the load
// elsewhere.
func newHTTPClient(dial string, conns int, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, dial)
		},
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
