//! "Set up this device": the box's certificate authority for school IT to install on
//! classroom devices, the steps for each kind of device, and a check that tells a device
//! whether it already trusts the box. No sign-in: the certificate is public, and devices
//! are set up before anyone signs in on them.
//!
//! The offline app links here ("to work offline, set up this device"): the URLs
//! `/device`, `/device/ca.crt`, `/device/ca.der` and `/device/folio.mobileconfig` stay.

use crate::i18n::filters;
use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{Chrome, HostHeader, PageError, PageResult, render};
use crate::domain::markup::escape;
use crate::error::Error;
use crate::http::AppState;
use crate::http::extract::{MaybeSignedIn, ViaHttps};
use crate::tls::{BOX_NAME, Https, Tls};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/device", get(show))
        .route("/device/ca.crt", get(ca_pem))
        .route("/device/ca.der", get(ca_der))
        .route("/device/folio.mobileconfig", get(apple_profile))
}

struct Authority {
    name: String,
    fingerprint: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "device.html")]
struct DevicePage {
    chrome: Chrome,
    /// `--tls-listen off`.
    off: bool,
    /// Why HTTPS is not working, when it should be.
    problem: Option<String>,
    authority: Option<Authority>,
    /// This page came over HTTPS.
    via_https: bool,
    /// The host the browser used, as it typed it (for the message when it is not covered).
    host: String,
    /// `https://<the same host>:<port>/`, when the certificate covers that host.
    secure_url: Option<String>,
    /// What device.js fetches to learn whether this device trusts the box.
    check_url: Option<String>,
    /// Every secure address of the box, the box name first.
    addresses: Vec<String>,
    /// The HTTPS port, when it is not 443 (firewalls must let it through).
    port: Option<u16>,
}

async fn show(
    State(state): State<AppState>,
    MaybeSignedIn(me): MaybeSignedIn,
    ViaHttps(via_https): ViaHttps,
    HostHeader(host_header): HostHeader,
) -> PageResult {
    let chrome = match &me {
        Some(me) => Chrome::for_user("title-device", me),
        None => Chrome::anonymous("title-device"),
    };
    let host = host_of(&host_header).to_string();
    let mut page = DevicePage {
        chrome,
        off: false,
        problem: None,
        authority: None,
        via_https,
        host,
        secure_url: None,
        check_url: None,
        addresses: Vec::new(),
        port: None,
    };
    let (tls, port) = match &state.https {
        Https::Off => {
            page.off = true;
            return Ok(render(StatusCode::OK, page));
        }
        Https::Failed(why) => {
            page.problem = Some(why.to_string());
            return Ok(render(StatusCode::OK, page));
        }
        Https::On { tls, port } => (tls, *port),
    };
    let names = tls.names();
    page.authority =
        Some(Authority { name: tls.ca_name().into(), fingerprint: tls.ca_fingerprint(), expires: tls.ca_expires() });
    page.port = (port != 443).then_some(port);
    let mut hosts = vec![BOX_NAME.to_string()];
    hosts.extend(names.dns.iter().filter(|d| *d != "localhost" && *d != BOX_NAME).cloned());
    // Link-local IPv6 addresses are in the certificate but not listed: browsers cannot
    // open them (they need a zone, which URLs do not carry).
    hosts.extend(names.ips.iter().filter_map(|ip| match ip {
        _ if ip.is_loopback() => None,
        std::net::IpAddr::V6(v6) if v6.is_unicast_link_local() => None,
        std::net::IpAddr::V6(v6) => Some(format!("[{v6}]")),
        v4 => Some(v4.to_string()),
    }));
    page.addresses = hosts.iter().map(|h| origin(h, port) + "/").collect();

    let origin = names.covers(&page.host).then(|| origin(&page.host, port));
    page.secure_url = origin.as_ref().map(|o| format!("{o}/device"));
    // Over HTTPS the question is answered: the page loaded. Over HTTP, device.js asks the
    // secure address, and this page's policy must let it connect there.
    let connect = origin.filter(|_| !via_https);
    page.check_url = connect.as_ref().map(|o| format!("{o}/healthz"));
    let mut response = render(StatusCode::OK, page);
    if let Some(origin) = connect
        && let Ok(policy) = HeaderValue::from_str(&crate::http::content_security_policy(Some(&origin)))
    {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    Ok(response)
}

/// The host part of a `Host` header: `[::1]:8080` → `[::1]`, `folio.local:8080` →
/// `folio.local`.
fn host_of(host_header: &str) -> &str {
    if host_header.starts_with('[') {
        return host_header.find(']').map_or(host_header, |end| &host_header[..=end]);
    }
    match host_header.split_once(':') {
        Some((host, port)) if !port.contains(':') => host,
        _ => host_header,
    }
}

fn origin(host: &str, port: u16) -> String {
    if port == 443 { format!("https://{host}") } else { format!("https://{host}:{port}") }
}

fn authority(state: &AppState) -> Result<&Tls, PageError> {
    match &state.https {
        Https::On { tls, .. } => Ok(tls),
        _ => Err(PageError(Error::NotFound)),
    }
}

fn download(content_type: &'static str, file_name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file_name}\"")),
            (header::CACHE_CONTROL, "no-cache".to_string()),
        ],
        body,
    )
        .into_response()
}

/// The authority's certificate, PEM: the bytes of `<data>/tls/ca.crt`.
async fn ca_pem(State(state): State<AppState>) -> PageResult {
    let tls = authority(&state)?;
    Ok(download("application/x-pem-file", "folio-ca.crt", tls.ca_pem().as_bytes().to_vec()))
}

/// The same certificate, DER, for systems that want that form.
async fn ca_der(State(state): State<AppState>) -> PageResult {
    let tls = authority(&state)?;
    Ok(download("application/pkix-cert", "folio-ca.der", tls.ca_der().to_vec()))
}

/// A configuration profile for iPad, iPhone and Mac that holds the certificate as a trusted
/// root (`com.apple.security.root`). Unsigned: the device says so, and school IT checks the
/// fingerprint. Its identifiers come from the certificate's fingerprint, so installing it
/// again replaces the profile rather than adding a second.
async fn apple_profile(State(state): State<AppState>) -> PageResult {
    let tls = authority(&state)?;
    Ok(download("application/x-apple-aspen-config", "folio.mobileconfig", mobileconfig(tls).into_bytes()))
}

fn mobileconfig(tls: &Tls) -> String {
    use base64::Engine;
    let fingerprint = tls.ca_fingerprint_bytes();
    let id = |salt: u8| {
        let mut bytes: [u8; 16] = fingerprint[..16].try_into().expect("16 bytes");
        bytes[15] ^= salt;
        uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string().to_uppercase()
    };
    let short: String = fingerprint[..8].iter().map(|b| format!("{b:02x}")).collect();
    let data = base64::engine::general_purpose::STANDARD.encode(tls.ca_der());
    let lines: Vec<&str> =
        data.as_bytes().chunks(64).map(|line| std::str::from_utf8(line).expect("base64 is ASCII")).collect();
    let name = escape(tls.ca_name());
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>PayloadContent</key>
	<array>
		<dict>
			<key>PayloadCertificateFileName</key>
			<string>folio-ca.crt</string>
			<key>PayloadContent</key>
			<data>
			{data}
			</data>
			<key>PayloadDescription</key>
			<string>Lets this device trust the secure address of the school's folio box.</string>
			<key>PayloadDisplayName</key>
			<string>{name}</string>
			<key>PayloadIdentifier</key>
			<string>local.folio.authority.{short}.certificate</string>
			<key>PayloadType</key>
			<string>com.apple.security.root</string>
			<key>PayloadUUID</key>
			<string>{cert_uuid}</string>
			<key>PayloadVersion</key>
			<integer>1</integer>
		</dict>
	</array>
	<key>PayloadDescription</key>
	<string>Installs the certificate authority of the school's folio box, so this device can use folio's secure address (needed to work offline). After installing, turn on full trust for "{name}" in Settings, General, About, Certificate Trust Settings.</string>
	<key>PayloadDisplayName</key>
	<string>folio: this school's box</string>
	<key>PayloadIdentifier</key>
	<string>local.folio.authority.{short}</string>
	<key>PayloadRemovalDisallowed</key>
	<false/>
	<key>PayloadType</key>
	<string>Configuration</string>
	<key>PayloadUUID</key>
	<string>{profile_uuid}</string>
	<key>PayloadVersion</key>
	<integer>1</integer>
</dict>
</plist>
"#,
        data = lines.join("\n\t\t\t"),
        cert_uuid = id(1),
        profile_uuid = id(2),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_of_strips_the_port() {
        assert_eq!(host_of("folio.local:8080"), "folio.local");
        assert_eq!(host_of("folio.local"), "folio.local");
        assert_eq!(host_of("[::1]:8080"), "[::1]");
        assert_eq!(host_of("[fd00::1]"), "[fd00::1]");
        assert_eq!(host_of("192.168.1.20:80"), "192.168.1.20");
    }

    #[test]
    fn origins_leave_out_the_default_port() {
        assert_eq!(origin("folio.local", 443), "https://folio.local");
        assert_eq!(origin("[::1]", 8443), "https://[::1]:8443");
    }
}
