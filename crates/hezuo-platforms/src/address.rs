//! Which addresses a webhook may reach (PLATFORMS.md §5, SSRF): a filter on `IpAddr` values,
//! for a resolver to apply to every address it returns, when the endpoint is saved and again at
//! every connection. Nothing here resolves a name or opens a connection.

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use url::{Host, Url};

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len)
}

/// IPv4 networks that are not the public Internet.
const V4_REFUSED: [Ipv4Net; 15] = [
    v4(0, 0, 0, 0, 8),       // "this network", 0.0.0.0 unspecified
    v4(10, 0, 0, 0, 8),      // private
    v4(100, 64, 0, 0, 10),   // carrier-grade NAT
    v4(127, 0, 0, 0, 8),     // loopback
    v4(169, 254, 0, 0, 16),  // link-local
    v4(172, 16, 0, 0, 12),   // private
    v4(192, 0, 0, 0, 24),    // IETF protocol assignments
    v4(192, 0, 2, 0, 24),    // documentation TEST-NET-1
    v4(192, 88, 99, 0, 24),  // deprecated 6to4 relay anycast
    v4(192, 168, 0, 0, 16),  // private
    v4(198, 18, 0, 0, 15),   // benchmarking
    v4(198, 51, 100, 0, 24), // documentation TEST-NET-2
    v4(203, 0, 113, 0, 24),  // documentation TEST-NET-3
    v4(224, 0, 0, 0, 4),     // multicast
    v4(240, 0, 0, 0, 4),     // reserved, 255.255.255.255 broadcast
];

const fn v6(segments: [u16; 8], len: u8) -> Ipv6Net {
    let [a, b, c, d, e, f, g, h] = segments;
    Ipv6Net::new_assert(Ipv6Addr::new(a, b, c, d, e, f, g, h), len)
}

/// The only IPv6 space allocated for global unicast.
const V6_GLOBAL_UNICAST: Ipv6Net = v6([0x2000, 0, 0, 0, 0, 0, 0, 0], 3);

/// Parts of global unicast that are not the public Internet.
const V6_REFUSED: [Ipv6Net; 3] = [
    v6([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), // IETF protocol assignments (Teredo, benchmarking, ORCHID…)
    v6([0x2001, 0x0db8, 0, 0, 0, 0, 0, 0], 32), // documentation
    v6([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation (RFC 9637)
];

/// IPv4-mapped `::ffff:a.b.c.d`.
const V6_MAPPED: Ipv6Net = v6([0, 0, 0, 0, 0, 0xffff, 0, 0], 96);
/// IPv4-compatible `::a.b.c.d` (deprecated).
const V6_COMPATIBLE: Ipv6Net = v6([0, 0, 0, 0, 0, 0, 0, 0], 96);
/// NAT64 well-known prefix `64:ff9b::a.b.c.d`.
const V6_NAT64: Ipv6Net = v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0], 96);
/// 6to4 `2002:aabb:ccdd::`, the IPv4 address in bits 16 to 48.
const V6_6TO4: Ipv6Net = v6([0x2002, 0, 0, 0, 0, 0, 0, 0], 16);

fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    let [.., a, b, c, d] = ip.octets();
    Ipv4Addr::new(a, b, c, d)
}

/// Whether `ip` is a public Internet address a webhook may connect to.
///
/// Refused IPv4: `0.0.0.0/8` (unspecified), `10/8`, `172.16/12`, `192.168/16` (private),
/// `127/8` (loopback), `169.254/16` (link-local), `100.64/10` (CGNAT), `192.0.0/24`,
/// `192.0.2/24`, `198.51.100/24`, `203.0.113/24` (protocol assignments, documentation),
/// `192.88.99/24` (6to4 relay), `198.18/15` (benchmarking), `224/4` (multicast), `240/4`
/// (reserved, broadcast).
///
/// IPv6 that carries an IPv4 address is judged by that address: IPv4-mapped `::ffff:0:0/96`,
/// IPv4-compatible `::/96`, NAT64 `64:ff9b::/96` and 6to4 `2002::/16`. Any other IPv6 address is
/// public only inside global unicast `2000::/3` and outside `2001::/23` (protocol assignments:
/// Teredo, benchmarking, ORCHID…), `2001:db8::/32` and `3fff::/20` (documentation); so `::`,
/// `::1`, `fc00::/7` (unique local), `fe80::/10` and `fec0::/10` (link/site-local), `ff00::/8`
/// (multicast), `100::/64` (discard) and every unallocated block are refused.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => V4_REFUSED.iter().all(|net| !net.contains(&ip)),
        IpAddr::V6(ip) => {
            if ip.is_unspecified() || ip.is_loopback() {
                false
            } else if V6_MAPPED.contains(&ip) || V6_COMPATIBLE.contains(&ip) || V6_NAT64.contains(&ip) {
                is_public(IpAddr::V4(low_v4(ip)))
            } else if V6_6TO4.contains(&ip) {
                let [_, _, a, b, c, d, ..] = ip.octets();
                is_public(IpAddr::V4(Ipv4Addr::new(a, b, c, d)))
            } else {
                V6_GLOBAL_UNICAST.contains(&ip) && V6_REFUSED.iter().all(|net| !net.contains(&ip))
            }
        }
    }
}

/// An entry of an allow-list that is not a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a network: {entry:?} (expected an address with a prefix length, such as 127.0.0.1/32 or ::1/128)")]
pub struct AllowListError {
    /// The entry as written.
    pub entry: String,
}

/// Networks admitted although [`is_public`] refuses them (configuration; tests use
/// `127.0.0.1/32`). Empty by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    nets: Vec<IpNet>,
}

impl AllowList {
    /// Reads comma-separated networks, `"127.0.0.1/32, ::1/128"`. A bare address is that one
    /// address (`/32` or `/128`); blank entries are ignored, so `""` is the empty list.
    pub fn parse(text: &str) -> Result<AllowList, AllowListError> {
        let mut nets = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let net = entry
                .parse::<IpNet>()
                .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| AllowListError { entry: entry.to_owned() })?;
            nets.push(net.trunc());
        }
        Ok(AllowList { nets })
    }

    /// The networks.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }

    /// Whether the list has no network.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Whether `ip` is in one of the networks (an IPv4-mapped IPv6 address counts as its IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip) || net.contains(&canonical))
    }
}

impl FromStr for AllowList {
    type Err = AllowListError;
    fn from_str(text: &str) -> Result<AllowList, AllowListError> {
        AllowList::parse(text)
    }
}

impl fmt::Display for AllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nets: Vec<String> = self.nets.iter().map(ToString::to_string).collect();
        f.write_str(&nets.join(", "))
    }
}

/// Whether a webhook may connect to `ip`: public, or in the allow-list.
pub fn admitted(ip: IpAddr, allow: &AllowList) -> bool {
    is_public(ip) || allow.contains(ip)
}

/// Why an endpoint URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not an absolute URL.
    #[error("not an absolute URL")]
    NotAUrl,
    /// `http://` while only `https://` is allowed.
    #[error("the URL must use https")]
    HttpNotAllowed,
    /// Neither `https` nor `http`.
    #[error("unsupported URL scheme {0:?}")]
    Scheme(String),
    /// No host to connect to.
    #[error("the URL has no host")]
    NoHost,
}

/// Checks an endpoint URL's form: `https://` (or `http://` when `allow_http`) with a host. The
/// host's addresses are checked separately, by the resolver, with [`admitted`]; an address
/// written in the URL itself is [`literal_ip`].
pub fn check_url(text: &str, allow_http: bool) -> Result<Url, UrlError> {
    let url = Url::parse(text.trim()).map_err(|_| UrlError::NotAUrl)?;
    match url.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => return Err(UrlError::HttpNotAllowed),
        other => return Err(UrlError::Scheme(other.to_owned())),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost);
    }
    Ok(url)
}

/// The address of a URL whose host is an IP literal (`https://203.0.114.9/`, `http://[::1]/`).
pub fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        Host::Domain(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn refuses_every_special_ipv4_range() {
        for a in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.0.170",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.0.1",
            "192.168.255.255",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.200",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(ip(a)), "{a} must be refused");
        }
    }

    #[test]
    fn admits_public_ipv4_next_to_the_edges() {
        for a in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.0.3.1",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "198.51.99.1",
            "203.0.114.9",
            "223.255.255.255",
            "114.114.114.114",
        ] {
            assert!(is_public(ip(a)), "{a} must be admitted");
        }
    }

    #[test]
    fn refuses_special_ipv6() {
        for a in [
            "::",
            "::1",
            "fe80::1",
            "febf:ffff::1",
            "fec0::1",
            "fc00::1",
            "fd12:3456:789a::1",
            "ff02::1",
            "ff0e::1",
            "100::1",
            "2001:db8::1",
            "2001:db8:ffff::1",
            "2001::1",
            "2001:2::1",
            "3fff::1",
            "64:ff9b:1::1",
            "4000::1",
            "1::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            "::127.0.0.1",
            "::192.168.1.1",
            "64:ff9b::10.0.0.1",
            "64:ff9b::127.0.0.1",
            "2002:7f00:1::",
            "2002:c0a8:0101::1",
            "2002:a9fe:a9fe::1",
        ] {
            assert!(!is_public(ip(a)), "{a} must be refused");
        }
    }

    #[test]
    fn admits_public_ipv6_and_embedded_public_ipv4() {
        for a in [
            "2400:3200::1",
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2a00:1450:4001::200e",
            "3ffe::1",
            "::ffff:8.8.8.8",
            "::8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert!(is_public(ip(a)), "{a} must be admitted");
        }
    }

    #[test]
    fn allow_list_admits_what_it_names() {
        let allow = AllowList::parse("127.0.0.1/32, ::1/128").unwrap();
        assert_eq!(allow.nets().len(), 2);
        assert!(admitted(ip("127.0.0.1"), &allow));
        assert!(admitted(ip("::1"), &allow));
        assert!(admitted(ip("::ffff:127.0.0.1"), &allow));
        assert!(!admitted(ip("127.0.0.2"), &allow));
        assert!(!admitted(ip("10.0.0.1"), &allow));
        assert!(admitted(ip("8.8.8.8"), &allow));
        assert!(admitted(ip("8.8.8.8"), &AllowList::default()));
        assert!(!admitted(ip("127.0.0.1"), &AllowList::default()));
        let allow: AllowList = "10.1.0.0/16,192.168.1.5, fd00::/8,".parse().unwrap();
        assert!(allow.contains(ip("10.1.200.3")));
        assert!(!allow.contains(ip("10.2.0.1")));
        assert!(allow.contains(ip("192.168.1.5")));
        assert!(!allow.contains(ip("192.168.1.6")));
        assert!(allow.contains(ip("fd00::abcd")));
        assert_eq!(allow.to_string(), "10.1.0.0/16, 192.168.1.5/32, fd00::/8");
        assert!(AllowList::parse("").unwrap().is_empty());
        assert!(AllowList::parse(" , ").unwrap().is_empty());
        // Host bits are dropped: 10.1.2.3/8 is 10.0.0.0/8.
        assert_eq!(AllowList::parse("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
    }

    #[test]
    fn allow_list_junk_is_an_error() {
        for junk in ["localhost", "127.0.0.1/33", "::1/129", "1.2.3", "127.0.0.1/32;::1/128", "10.0.0.0/8 x"] {
            let e = AllowList::parse(&format!("8.8.8.8/32, {junk}")).unwrap_err();
            assert_eq!(e.entry, junk);
            assert!(e.to_string().contains("not a network"));
        }
    }

    #[test]
    fn urls() {
        let u = check_url("https://hooks.example.com/hezuo?x=1", false).unwrap();
        assert_eq!(u.host_str(), Some("hooks.example.com"));
        assert_eq!(literal_ip(&u), None);
        assert_eq!(check_url("http://hooks.example.com/", false), Err(UrlError::HttpNotAllowed));
        let u = check_url("http://127.0.0.1:8080/hook", true).unwrap();
        assert_eq!(literal_ip(&u), Some(ip("127.0.0.1")));
        assert_eq!(u.port_or_known_default(), Some(8080));
        let u = check_url("https://[::1]/hook", false).unwrap();
        assert_eq!(literal_ip(&u), Some(ip("::1")));
        assert_eq!(check_url("ftp://example.com/", true), Err(UrlError::Scheme("ftp".into())));
        assert_eq!(check_url("file:///etc/passwd", true), Err(UrlError::Scheme("file".into())));
        assert_eq!(check_url("hooks.example.com/x", false), Err(UrlError::NotAUrl));
        assert_eq!(check_url("https://", false), Err(UrlError::NotAUrl));
        assert_eq!(check_url("", false), Err(UrlError::NotAUrl));
    }
}
