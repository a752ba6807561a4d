//! Which network addresses Rapport may send a webhook to. A webhook URL
//! is typed by an admin, so a careless or hostile one could make the
//! server reach inside its own network (server-side request forgery):
//! the cloud metadata service, a database port, an admin console.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// An ordinary internet address.
    Public,
    /// Loopback or a private network (RFC 1918, unique-local, shared
    /// address space): allowed only when the clinic allows private
    /// networks, for receivers on its own premises.
    Private,
    /// Never: link-local (including the cloud metadata service), the
    /// unspecified address, multicast and broadcast.
    Forbidden,
}

pub fn reach(ip: IpAddr) -> Reach {
    match ip {
        IpAddr::V4(v4) => reach_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => reach_v4(v4),
            None => reach_v6(v6),
        },
    }
}

fn reach_v4(ip: Ipv4Addr) -> Reach {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() || ip.is_link_local() || ip.is_multicast() || ip.is_broadcast() || a == 0 {
        Reach::Forbidden
    } else if ip.is_loopback() || ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Reach::Private
    } else {
        Reach::Public
    }
}

fn reach_v6(ip: Ipv6Addr) -> Reach {
    let first = ip.segments()[0];
    if ip.is_unspecified() || ip.is_multicast() || (first & 0xffc0) == 0xfe80 {
        Reach::Forbidden
    } else if ip.is_loopback() || (first & 0xfe00) == 0xfc00 {
        // fc00::/7 includes AWS's metadata address fd00:ec2::254.
        if ip == Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254) {
            Reach::Forbidden
        } else {
            Reach::Private
        }
    } else {
        Reach::Public
    }
}

/// Why an address may not be used, in words for the admin; None if it may.
pub fn refusal(ip: IpAddr, allow_private: bool) -> Option<String> {
    match reach(ip) {
        Reach::Public => None,
        Reach::Private if allow_private => None,
        Reach::Private => Some(format!(
            "it leads to {ip}, an address on a private network or this server itself; \
             if the receiver is on the clinic's own network, allow private networks under Admin → Webhooks first"
        )),
        Reach::Forbidden => Some(format!(
            "it leads to {ip}, a link-local, metadata, broadcast or unspecified address, which webhooks may never use"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> Reach {
        reach(text.parse().unwrap())
    }

    #[test]
    fn addresses_sort_into_public_private_and_forbidden() {
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "100.128.0.1"] {
            assert_eq!(r(public), Reach::Public, "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.10",
            "100.64.0.1",
            "::1",
            "fd12:3456::1",
            "::ffff:192.168.1.10",
        ] {
            assert_eq!(r(private), Reach::Private, "{private}");
        }
        for forbidden in [
            "169.254.169.254",
            "169.254.0.1",
            "0.0.0.0",
            "0.1.2.3",
            "224.0.0.1",
            "255.255.255.255",
            "fe80::1",
            "::",
            "ff02::1",
            "fd00:ec2::254",
            "::ffff:169.254.169.254",
        ] {
            assert_eq!(r(forbidden), Reach::Forbidden, "{forbidden}");
        }
    }

    #[test]
    fn private_networks_only_when_allowed() {
        let lan: IpAddr = "192.168.1.10".parse().unwrap();
        assert!(refusal(lan, false).unwrap().contains("allow private networks"));
        assert_eq!(refusal(lan, true), None);
        let metadata: IpAddr = "169.254.169.254".parse().unwrap();
        assert!(refusal(metadata, true).unwrap().contains("never"));
        assert_eq!(refusal("8.8.8.8".parse().unwrap(), false), None);
    }
}
