//! Where a request really comes from (SPEC §0 "Transport"): the client address, scheme and host,
//! taken from `Forwarded` / `X-Forwarded-*` only when the socket peer is a trusted proxy.
//! Owns: that decision and the address grouping the throttle uses (IPv6 by /64).
//! Pure: the server passes the socket address and header values in.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};

/// The effective origin of a request after the proxy rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientOrigin {
    pub addr: IpAddr,
    pub https: bool,
    /// The host the client asked for (`host[:port]`, lower case), if any.
    pub host: Option<String>,
}

/// Which forwarding header the operator's proxy writes (`trusted_proxy_header`). Only that one is
/// believed; the other family is ignored even from a trusted proxy, because a proxy passes through
/// whatever it does not set itself (nginx's usual setup sets only `X-Forwarded-For`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum ProxyHeader {
    /// `X-Forwarded-For`, with `X-Forwarded-Proto` and `X-Forwarded-Host` (nginx, HAProxy, most
    /// load balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded` (`for=…;proto=…;host=…`).
    Forwarded,
}

impl TryFrom<String> for ProxyHeader {
    type Error = String;
    /// Header names are case-insensitive: `X-Forwarded-For` and `x-forwarded-for` are one.
    fn try_from(s: String) -> Result<ProxyHeader, String> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "x-forwarded-for" => Ok(ProxyHeader::XForwardedFor),
            "forwarded" => Ok(ProxyHeader::Forwarded),
            _ => Err(format!(
                "trusted_proxy_header {s:?} is not one of \"x-forwarded-for\" and \"forwarded\""
            )),
        }
    }
}

/// One `trusted_proxies` entry: a CIDR, or a bare address meaning just that address (/32, /128).
pub fn parse_proxy(s: &str) -> Result<IpNet, String> {
    let t = s.trim();
    t.parse::<IpNet>()
        .or_else(|_| t.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!("trusted_proxies entry {s:?} is not an IP address or a CIDR such as 10.0.0.0/8")
        })
}

/// Header values relevant to the proxy rule, as received. Repeated header lines are combined in
/// order (RFC 9110 §5.3; HAProxy appends a second line): comma-separated, except `Forwarded`
/// lines, which are separated by `\n` so each line is parsed on its own.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProxyHeaders<'a> {
    pub forwarded: Option<&'a str>,
    pub x_forwarded_for: Option<&'a str>,
    pub x_forwarded_proto: Option<&'a str>,
    pub x_forwarded_host: Option<&'a str>,
    pub host: Option<&'a str>,
}

fn trusted(addr: IpAddr, proxies: &[IpNet]) -> bool {
    let addr = canonical(addr);
    proxies.iter().any(|n| n.contains(&addr))
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are treated as the IPv4 address.
pub fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

fn parse_node(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    // `[2001:db8::1]:443` or `1.2.3.4:80`
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    s.rsplit_once(':')?.0.parse().ok()
}

/// The last (nearest proxy's) element of a comma-separated header, lower case.
fn nearest(v: Option<&str>) -> Option<String> {
    let last = v?.rsplit(',').next()?.trim().to_ascii_lowercase();
    (!last.is_empty()).then_some(last)
}

/// One proxy hop, nearest last: the address its proxy received the request from, and what that
/// proxy saw of the scheme and host.
type Hop = (Option<IpAddr>, Option<String>, Option<String>);

/// Splits `s` on `delim` outside RFC 9110 quoted strings (`"a,b"`, with `\"` escapes), so a
/// quoted value cannot smuggle in another element or parameter. The flag is true when a quote (or
/// an escape) is still open at the end: the last piece then swallowed what followed it and must
/// not be believed.
fn split_unquoted(s: &str, delim: char) -> (Vec<&str>, bool) {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == delim && !quoted {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    (out, quoted || escaped)
}

/// `Forwarded` hops. Header lines are separated by `\n` (the caller joins repeated lines so),
/// and a line is parsed on its own, so a client's unterminated quote cannot swallow the
/// element the proxy appended on its own line; an unterminated element is a hop that names no
/// one (the client is then unknown).
fn forwarded_hops(fwd: &str) -> Vec<Hop> {
    let mut hops = Vec::new();
    for line in fwd.split('\n') {
        // An element that ends inside a quote is the line's last (it swallowed the rest), and
        // splitting it again finds the same open quote.
        for element in split_unquoted(line, ',').0 {
            let (pairs, open) = split_unquoted(element, ';');
            if open {
                hops.push((None, None, None));
                continue;
            }
            let (mut f, mut p, mut ho) = (None, None, None);
            for pair in pairs {
                if let Some((k, v)) = pair.split_once('=') {
                    let v = v.trim();
                    let v = v
                        .strip_prefix('"')
                        .and_then(|x| x.strip_suffix('"'))
                        .unwrap_or(v);
                    match k.trim().to_ascii_lowercase().as_str() {
                        "for" => f = parse_node(v),
                        "proto" => p = Some(v.to_ascii_lowercase()),
                        "host" => ho = Some(v.to_ascii_lowercase()),
                        _ => {}
                    }
                }
            }
            hops.push((f, p, ho));
        }
    }
    hops
}

fn x_forwarded_hops(h: &ProxyHeaders<'_>) -> Vec<Hop> {
    let mut hops: Vec<Hop> = h
        .x_forwarded_for
        .map(|xff| {
            xff.split(',')
                .map(|n| (parse_node(n), None, None))
                .collect()
        })
        .unwrap_or_default();
    // Proto and host are what the nearest proxy saw (the last value if a proxy appended).
    let (proto, host) = (nearest(h.x_forwarded_proto), nearest(h.x_forwarded_host));
    match hops.last_mut() {
        Some(last) => {
            last.1 = proto;
            last.2 = host;
        }
        None if proto.is_some() || host.is_some() => hops.push((None, proto, host)),
        None => {}
    }
    hops
}

/// The address given to a client a trusted proxy could not name: not loopback, not trusted, one
/// shared throttle group.
pub const UNKNOWN_CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

/// Applies the proxy rule. `peer` is the socket's address; `proxies` the operator's CIDRs;
/// `which` the header family the operator's proxy writes. Hops are walked from the right (the
/// nearest proxy's) leftwards, skipping trusted proxies; the first untrusted address is the client.
pub fn resolve_origin(
    peer: IpAddr,
    proxies: &[IpNet],
    which: ProxyHeader,
    h: ProxyHeaders<'_>,
) -> ClientOrigin {
    let socket_host = h.host.map(|v| v.trim().to_ascii_lowercase());
    let mut origin = ClientOrigin {
        addr: canonical(peer),
        https: false,
        host: socket_host,
    };
    if !trusted(peer, proxies) {
        return origin;
    }
    let hops = match which {
        ProxyHeader::Forwarded => h.forwarded.map(forwarded_hops).unwrap_or_default(),
        ProxyHeader::XForwardedFor => x_forwarded_hops(&h),
    };
    for (f, proto, host) in hops.into_iter().rev() {
        if let Some(p) = proto {
            origin.https = p == "https";
        }
        if let Some(ho) = host {
            origin.host = Some(ho);
        }
        match f {
            Some(addr) => {
                origin.addr = canonical(addr);
                if !trusted(addr, proxies) {
                    break;
                }
            }
            // A hop the proxy could not name (`unknown`, an obfuscated node, `unix:`, garbage,
            // an empty list element): the client is unknown — never the proxy's own address,
            // which may be loopback and would pass the plain-http rule.
            None => {
                origin.addr = UNKNOWN_CLIENT;
                break;
            }
        }
    }
    origin
}

impl ClientOrigin {
    /// SPEC §0: credentials travel over https, or over plain http from a loopback peer, unless
    /// the operator allows insecure http.
    pub fn may_send_credentials(&self, allow_insecure_http: bool) -> bool {
        self.https || is_loopback(self.addr) || allow_insecure_http
    }
}

/// Loopback peers may send credentials over plain http (SPEC §0).
pub fn is_loopback(addr: IpAddr) -> bool {
    canonical(addr).is_loopback()
}

/// The address group the throttle counts by: an IPv4 address, or an IPv6 /64.
pub fn throttle_group(addr: IpAddr) -> String {
    match canonical(addr) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(s: &[&str]) -> Vec<IpNet> {
        s.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn untrusted_peers_cannot_forge_their_origin() {
        let h = ProxyHeaders {
            x_forwarded_for: Some("203.0.113.9"),
            x_forwarded_proto: Some("https"),
            host: Some("Blog.Example"),
            ..Default::default()
        };
        let o = resolve_origin(
            "198.51.100.1".parse().unwrap(),
            &[],
            ProxyHeader::XForwardedFor,
            h,
        );
        assert_eq!(o.addr, "198.51.100.1".parse::<IpAddr>().unwrap());
        assert!(!o.https);
        assert_eq!(o.host.as_deref(), Some("blog.example"));
    }

    #[test]
    fn trusted_proxies_are_skipped_right_to_left() {
        let proxies = nets(&["10.0.0.0/8"]);
        let h = ProxyHeaders {
            x_forwarded_for: Some("1.1.1.1, 203.0.113.9, 10.0.0.2"),
            x_forwarded_proto: Some("https"),
            x_forwarded_host: Some("api.example"),
            ..Default::default()
        };
        let o = resolve_origin(
            "10.0.0.1".parse().unwrap(),
            &proxies,
            ProxyHeader::XForwardedFor,
            h,
        );
        assert_eq!(o.addr, "203.0.113.9".parse::<IpAddr>().unwrap());
        assert!(o.https);
        assert_eq!(o.host.as_deref(), Some("api.example"));
    }

    #[test]
    fn forwarded_header_is_understood() {
        let proxies = nets(&["127.0.0.0/8"]);
        let h = ProxyHeaders {
            forwarded: Some(r#"for="[2001:db8::7]:4711";proto=https;host=a.example"#),
            ..Default::default()
        };
        let o = resolve_origin(
            "127.0.0.1".parse().unwrap(),
            &proxies,
            ProxyHeader::Forwarded,
            h,
        );
        assert_eq!(o.addr, "2001:db8::7".parse::<IpAddr>().unwrap());
        assert!(o.https);
    }

    #[test]
    fn only_the_operators_header_family_is_believed() {
        let proxies = nets(&["127.0.0.0/8"]);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        // nginx sets X-Forwarded-For and passes the client's own Forwarded through.
        let h = ProxyHeaders {
            forwarded: Some("for=127.0.0.1;proto=https"),
            x_forwarded_for: Some("203.0.113.9"),
            ..Default::default()
        };
        let o = resolve_origin(peer, &proxies, ProxyHeader::XForwardedFor, h);
        assert_eq!(o.addr, "203.0.113.9".parse::<IpAddr>().unwrap());
        assert!(!o.https);
        // A proxy that writes Forwarded: X-Forwarded-* from the client is ignored.
        let h = ProxyHeaders {
            forwarded: Some("for=203.0.113.9"),
            x_forwarded_for: Some("127.0.0.1"),
            x_forwarded_proto: Some("https"),
            ..Default::default()
        };
        let o = resolve_origin(peer, &proxies, ProxyHeader::Forwarded, h);
        assert_eq!(o.addr, "203.0.113.9".parse::<IpAddr>().unwrap());
        assert!(!o.https);
    }

    #[test]
    fn a_hop_that_names_no_address_is_an_unknown_client_not_the_proxy() {
        let proxies = nets(&["127.0.0.0/8"]);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        for xff in [
            "8.8.8.8, unknown",
            "8.8.8.8, ",
            "8.8.8.8, , ",
            "fe80::1%eth0",
            "unix:",
        ] {
            let h = ProxyHeaders {
                x_forwarded_for: Some(xff),
                ..Default::default()
            };
            let o = resolve_origin(peer, &proxies, ProxyHeader::XForwardedFor, h);
            assert_eq!(o.addr, UNKNOWN_CLIENT, "{xff:?}");
            assert!(!is_loopback(o.addr));
        }
        for fwd in [
            "for=unknown",
            "for=_hidden",
            "for=\"_x\";proto=https",
            "proto=https",
        ] {
            let h = ProxyHeaders {
                forwarded: Some(fwd),
                ..Default::default()
            };
            let o = resolve_origin(peer, &proxies, ProxyHeader::Forwarded, h);
            assert_eq!(o.addr, UNKNOWN_CLIENT, "{fwd:?}");
        }
    }

    #[test]
    fn an_unterminated_quote_swallows_nothing() {
        let proxies = nets(&["127.0.0.0/8"]);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        // The client's own element ends in an open quote; the proxy appended the real address,
        // on the same line or on a line of its own.
        for fwd in [
            r#"for=127.0.0.1;x=", for=203.0.113.9"#,
            "for=127.0.0.1;x=\"\nfor=203.0.113.9",
            "for=127.0.0.1;x=\\\nfor=203.0.113.9",
        ] {
            let h = ProxyHeaders {
                forwarded: Some(fwd),
                ..Default::default()
            };
            let o = resolve_origin(peer, &proxies, ProxyHeader::Forwarded, h);
            assert!(!is_loopback(o.addr), "{fwd:?} -> {}", o.addr);
            assert!(
                o.addr == UNKNOWN_CLIENT || o.addr == "203.0.113.9".parse::<IpAddr>().unwrap(),
                "{fwd:?} -> {}",
                o.addr
            );
        }
    }

    #[test]
    fn a_proxy_that_names_only_the_scheme_or_host_leaves_the_client_unknown() {
        let proxies = nets(&["127.0.0.0/8"]);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        for (proto, host) in [(Some("https"), None), (None, Some("a.example"))] {
            let h = ProxyHeaders {
                x_forwarded_proto: proto,
                x_forwarded_host: host,
                ..Default::default()
            };
            let o = resolve_origin(peer, &proxies, ProxyHeader::XForwardedFor, h);
            assert_eq!(o.addr, UNKNOWN_CLIENT);
            assert_eq!(o.https, proto.is_some());
            assert_eq!(o.host.as_deref(), host);
        }
        // No forwarding header at all: the request is the proxy's own.
        let o = resolve_origin(
            peer,
            &proxies,
            ProxyHeader::XForwardedFor,
            ProxyHeaders::default(),
        );
        assert_eq!(o.addr, peer);
    }

    #[test]
    fn credentials_need_https_loopback_or_the_operators_consent() {
        let at = |addr: &str, https: bool| ClientOrigin {
            addr: addr.parse().unwrap(),
            https,
            host: None,
        };
        assert!(at("203.0.113.9", true).may_send_credentials(false));
        assert!(at("127.0.0.1", false).may_send_credentials(false));
        assert!(at("::1", false).may_send_credentials(false));
        assert!(!at("203.0.113.9", false).may_send_credentials(false));
        assert!(
            !at("0.0.0.0", false).may_send_credentials(false),
            "unknown client"
        );
        assert!(at("203.0.113.9", false).may_send_credentials(true));
    }

    #[test]
    fn settings_spellings() {
        for (s, want) in [
            ("x-forwarded-for", ProxyHeader::XForwardedFor),
            ("X-Forwarded-For", ProxyHeader::XForwardedFor),
            (" x_forwarded_for ", ProxyHeader::XForwardedFor),
            ("forwarded", ProxyHeader::Forwarded),
            ("Forwarded", ProxyHeader::Forwarded),
        ] {
            assert_eq!(ProxyHeader::try_from(s.to_string()), Ok(want), "{s}");
        }
        assert!(ProxyHeader::try_from("x-real-ip".to_string())
            .unwrap_err()
            .contains("x-real-ip"));
        assert_eq!(parse_proxy("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(
            parse_proxy(" 127.0.0.1 ").unwrap().to_string(),
            "127.0.0.1/32"
        );
        assert_eq!(parse_proxy("::1").unwrap().to_string(), "::1/128");
        for bad in ["10.0.0.0/33", "localhost", ""] {
            assert!(
                parse_proxy(bad).unwrap_err().contains("trusted_proxies"),
                "{bad}"
            );
        }
    }

    #[test]
    fn quoted_forwarded_values_cannot_smuggle_elements() {
        let proxies = nets(&["127.0.0.0/8"]);
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        let h = ProxyHeaders {
            forwarded: Some(r#"for=8.8.8.8;host="a,for=9.9.9.9";proto=http"#),
            ..Default::default()
        };
        let o = resolve_origin(peer, &proxies, ProxyHeader::Forwarded, h);
        assert_eq!(o.addr, "8.8.8.8".parse::<IpAddr>().unwrap());
        assert_eq!(o.host.as_deref(), Some("a,for=9.9.9.9"));
        let h = ProxyHeaders {
            forwarded: Some(r#"for=8.8.8.8;host="a;proto=https""#),
            ..Default::default()
        };
        let o = resolve_origin(peer, &proxies, ProxyHeader::Forwarded, h);
        assert!(!o.https, "a quoted ';proto=https' is part of the host");
        assert_eq!(
            split_unquoted(r#"a="x\",y",b"#, ','),
            (vec![r#"a="x\",y""#, "b"], false)
        );
        assert_eq!(
            split_unquoted(r#"a="x, b"#, ','),
            (vec![r#"a="x, b"#], true)
        );
    }

    #[test]
    fn a_client_prefix_cannot_hide_behind_the_proxys_append() {
        // The client sent `X-Forwarded-For: 127.0.0.1`; the proxy appended the real address
        // (as a second line, combined by the caller). The walk from the right finds the client.
        let proxies = nets(&["127.0.0.0/8"]);
        let h = ProxyHeaders {
            x_forwarded_for: Some("127.0.0.1, 203.0.113.9"),
            x_forwarded_proto: Some("https, http"),
            ..Default::default()
        };
        let o = resolve_origin(
            "127.0.0.1".parse().unwrap(),
            &proxies,
            ProxyHeader::XForwardedFor,
            h,
        );
        assert_eq!(o.addr, "203.0.113.9".parse::<IpAddr>().unwrap());
        assert!(!o.https, "the nearest proxy's proto wins");
    }

    #[test]
    fn ipv6_groups_by_64_and_mapped_v4_is_v4() {
        assert_eq!(
            throttle_group("2001:db8:1:2:aaaa::1".parse().unwrap()),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            throttle_group("::ffff:192.0.2.1".parse().unwrap()),
            "192.0.2.1"
        );
        assert!(is_loopback("::1".parse().unwrap()));
        assert!(is_loopback("::ffff:127.0.0.1".parse().unwrap()));
        assert!(!is_loopback("192.0.2.1".parse().unwrap()));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Forged forwarding headers never panic and never move an untrusted peer.
        #[test]
        fn forwarding_headers_never_panic(fwd in "\\PC{0,60}", xff in "\\PC{0,60}", proto in "\\PC{0,10}", host in "\\PC{0,30}") {
            let h = ProxyHeaders {
                forwarded: Some(&fwd),
                x_forwarded_for: Some(&xff),
                x_forwarded_proto: Some(&proto),
                x_forwarded_host: Some(&host),
                host: Some(&host),
            };
            let peer: IpAddr = "198.51.100.1".parse().unwrap();
            for which in [ProxyHeader::XForwardedFor, ProxyHeader::Forwarded] {
                let o = resolve_origin(peer, &[], which, h);
                prop_assert_eq!(o.addr, peer);
                prop_assert!(!o.https);
                let _ = resolve_origin("10.0.0.1".parse().unwrap(), &["10.0.0.0/8".parse().unwrap()], which, h);
            }
        }
    }
}
