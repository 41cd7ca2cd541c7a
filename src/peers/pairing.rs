//! Pairing two boxes with an invitation.
//!
//! The inviting box makes a one-time secret (32 random bytes), keeps only its BLAKE3 hash
//! (with the scope offered and an expiry an hour away) and hands its admin a token:
//! `folio1:` + base64url of `{"id","addresses","secret","scope"?}`, also as a QR code. The
//! joining box's admin enters the token; the joining box connects to the first address that
//! answers *as that id* (the TLS check pins it from the start, so a box at that address with
//! another key learns nothing, not even the secret), and calls `/peer/v1/pair` with the
//! secret and its own addresses. The inviter takes the invitation out in the same transaction
//! that pins the caller (by its client certificate), so a token works once; both boxes then
//! hold each other as a [`Peer`] with the same scope.
//!
//! A scope of some classes has a direction (the inviter holds the school; see `store::grant`):
//! making such an invitation, entering it, and accepting it each ask
//! `sync::class_pairing_refusal` whether this box may take its side.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::client::PeerClient;
use super::server::{PairAnswer, PairRequest};
use super::{BoxId, ClientCert, Peer, PeerError, PeerScope, PeerStatus};
use crate::app::Folio;
use crate::domain::hlc::wall_clock_ms;
use crate::error::{Error, Result};
use crate::store::peers::{self as table, Invite, InviteUse};
use crate::sync::PairingSide;

const TOKEN_PREFIX: &str = "folio1:";

/// What a token carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub id: BoxId,
    pub addresses: Vec<String>,
    /// The one-time secret, base64url.
    pub secret: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<PeerScope>,
}

impl Token {
    pub fn encode(&self) -> String {
        format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a token serialises")))
    }

    pub fn decode(text: &str) -> Result<Token> {
        let bad = || {
            Error::Invalid(
                "That is not a folio invitation. Copy the whole text from the other box's \"Invite a box\" (it starts with folio1:)."
                    .into(),
            )
        };
        let body = text.trim().strip_prefix(TOKEN_PREFIX).ok_or_else(bad)?;
        let json = URL_SAFE_NO_PAD.decode(body.trim_end_matches('=')).map_err(|_| bad())?;
        serde_json::from_slice(&json).map_err(|_| bad())
    }
}

/// A new invitation, for the admin to carry to the other box.
#[derive(Clone, Debug)]
pub struct Invitation {
    pub token: String,
    pub expires_ms: u64,
}

fn secret_hash(secret: &str) -> Result<[u8; 32]> {
    let bytes = URL_SAFE_NO_PAD
        .decode(secret)
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| Error::forbidden("That invitation's secret is not one this box made."))?;
    Ok(*blake3::hash(&bytes).as_bytes())
}

/// Refuses, in words for the admin, a class pairing in which this box would take `side`
/// against `sync::class_pairing_refusal` (the one rule of who offers classes to whom).
fn check_class_side(r: &impl crate::store::ReadTables, scope: Option<&PeerScope>, side: PairingSide) -> Result<()> {
    let Some(schools) = scope.and_then(PeerScope::schools) else {
        return Ok(());
    };
    match crate::sync::class_pairing_refusal(r, &schools, side)? {
        Some(why) => Err(Error::conflict(why)),
        None => Ok(()),
    }
}

/// Makes an invitation offering `scope` (`None`: the joining admin chooses; whole schools
/// unless they narrow it).
pub async fn invite(folio: &Folio, scope: Option<PeerScope>) -> Result<Invitation> {
    let addresses = folio.net.addresses();
    if addresses.is_empty() {
        return Err(Error::conflict(
            "This box's port for other boxes is off (--peer-listen off), so no box could reach it to pair. Turn it on and try again.",
        ));
    }
    let offered = scope.clone();
    folio.db(move |store| store.read(|r| check_class_side(r, offered.as_ref(), PairingSide::Inviter))).await?;
    let secret: [u8; 32] = rand::random();
    let secret = URL_SAFE_NO_PAD.encode(secret);
    let hash = secret_hash(&secret)?;
    let now = wall_clock_ms();
    let invite = Invite {
        scope: scope.clone(),
        expires_ms: now + folio.config.invite_lifetime.as_millis() as u64,
        made_ms: now,
    };
    let expires_ms = invite.expires_ms;
    folio.db(move |store| Ok(store.write(|tx| table::put_invite(tx.txn(), hash, &invite))?)).await?;
    let token = Token { id: folio.net.id(), addresses, secret, scope }.encode();
    Ok(Invitation { token, expires_ms })
}

/// The inviter's side of `/peer/v1/pair`: checks and burns the secret, pins the caller.
pub async fn accept(folio: &Folio, caller: ClientCert, request: PairRequest) -> Result<PairAnswer> {
    if caller.id == folio.net.id() {
        return Err(Error::Invalid("A box cannot pair with itself.".into()));
    }
    let hash = secret_hash(&request.secret)?;
    let now = wall_clock_ms();
    let PairRequest { addresses, scope: asked, .. } = request;
    let addresses: Vec<String> = addresses.into_iter().filter(|a| plausible_address(a)).take(16).collect();
    let scope = folio
        .db(move |store| {
            store.write(|tx| {
                let invite = match table::take_invite(tx.txn(), hash, now)? {
                    InviteUse::Taken(invite) => invite,
                    InviteUse::Unknown => {
                        return Err(Error::forbidden(
                            "that invitation was used already, or it is not one this box made. Make a new invitation on this box.",
                        ));
                    }
                    InviteUse::Expired => {
                        return Err(Error::Gone(
                            "that invitation has expired (they last an hour). Make a new invitation on this box.".into(),
                        ));
                    }
                };
                let offered = invite.scope.unwrap_or(PeerScope::WholeSchools);
                let scope = match asked.clone() {
                    Some(asked) if offered.covers(&asked) => asked,
                    Some(_) => {
                        return Err(Error::forbidden(
                            "the scope asked for is wider than the invitation offers. Ask for less, or get a new invitation.",
                        ));
                    }
                    None => offered,
                };
                // Checked again now: the box may have joined a class grant since it invited.
                check_class_side(tx.txn(), Some(&scope), PairingSide::Inviter)?;
                let peer = Peer {
                    id: caller.id,
                    cert_der: caller.der.to_vec(),
                    scope: scope.clone(),
                    // We offered the scope: the joining box acts only inside it.
                    offered_by: crate::sync::OfferedBy::Us,
                    addresses: addresses.clone(),
                    paired_ms: now,
                    status: PeerStatus::default(),
                };
                table::put_peer(tx.txn(), &peer)?;
                Ok(scope)
            })
        })
        .await?;
    tracing::info!(peer = %caller.id.short(), ?scope, "paired with another box (it joined with an invitation)");
    Ok(PairAnswer { box_id: folio.net.id(), scope })
}

/// "host:port", nothing that could smuggle a path or credentials into a URL.
fn plausible_address(address: &str) -> bool {
    address.len() <= 100
        && address.contains(':')
        && address.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']' | '%'))
}

/// The joiner's side: reaches the inviter at the token's addresses (pinned to its id),
/// presents the secret, and pins the inviter here.
pub async fn join(folio: &Folio, token: &str, scope: Option<PeerScope>) -> Result<Peer> {
    let token = Token::decode(token)?;
    if token.id == folio.net.id() {
        return Err(Error::Invalid("That invitation was made by this box. Enter it on the other box.".into()));
    }
    if let (Some(offered), Some(asked)) = (&token.scope, &scope)
        && !offered.covers(asked)
    {
        return Err(Error::Invalid(
            "The invitation offers less than the scope you chose. Choose fewer classes, or ask for a new invitation."
                .into(),
        ));
    }
    let asked = scope.clone().or_else(|| token.scope.clone());
    folio.db(move |store| store.read(|r| check_class_side(r, asked.as_ref(), PairingSide::Joiner))).await?;
    let mine = folio.net.addresses();
    if mine.is_empty() {
        return Err(Error::conflict(
            "This box's port for other boxes is off (--peer-listen off), so the other box could never reach it. Turn it on and try again.",
        ));
    }
    let request = PairRequest { secret: token.secret.clone(), addresses: mine, scope: scope.clone() };
    let mut failures: Vec<PeerError> = Vec::new();
    for address in token.addresses.iter().filter(|a| plausible_address(a)) {
        let client = PeerClient::new(&folio.net.identity, token.id, address).map_err(Error::internal)?;
        match client.pair(&request).await {
            Ok(answer) => {
                let cert_der = client.presented_certificate().unwrap_or_default();
                if answer.box_id != token.id || BoxId::of_certificate(&cert_der) != token.id {
                    return Err(Error::BadGateway(format!(
                        "box {} answered with another id than its invitation's. Nothing was paired here.",
                        token.id.short()
                    )));
                }
                let agreed = answer.scope;
                if let Some(limit) = scope.as_ref().or(token.scope.as_ref())
                    && !limit.covers(&agreed)
                {
                    return Err(Error::BadGateway(format!(
                        "box {} agreed to more than was asked for. Nothing was paired here; unpair it there.",
                        token.id.short()
                    )));
                }
                let mut addresses = vec![address.clone()];
                addresses.extend(token.addresses.iter().filter(|a| *a != address).cloned());
                let peer = Peer {
                    id: token.id,
                    cert_der,
                    scope: agreed,
                    // It offered the scope: within it, its pages are the school's word.
                    offered_by: crate::sync::OfferedBy::Peer,
                    addresses,
                    paired_ms: wall_clock_ms(),
                    status: PeerStatus::default(),
                };
                let stored = peer.clone();
                folio.db(move |store| Ok(store.write(|tx| table::put_peer(tx.txn(), &stored))?)).await?;
                tracing::info!(peer = %peer.id.short(), "paired with another box (joined its invitation)");
                return Ok(peer);
            }
            // The inviter said no: another address will say the same.
            Err(PeerError::Refused { why, .. }) => {
                return Err(Error::Invalid(format!("Box {} refused: {why}", token.id.short())));
            }
            Err(e) => failures.push(e),
        }
    }
    let wrong_key = failures.iter().find(|e| matches!(e, PeerError::WrongKey { .. }));
    match wrong_key.or(failures.first()) {
        Some(e) => Err(Error::BadGateway(format!("{e}. Nothing was paired."))),
        None => Err(Error::Invalid("That invitation holds no address to reach the other box at.".into())),
    }
}

/// Forgets a peer: its next connection is refused, and this box stops calling it.
pub async fn unpair(folio: &Folio, id: BoxId) -> Result<bool> {
    let removed = folio.db(move |store| Ok(store.write(|tx| table::remove_peer(tx.txn(), id))?)).await?;
    if removed {
        tracing::info!(peer = %id.short(), "unpaired another box");
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_read_back_and_garbage_is_refused_in_words() {
        let token = Token {
            id: BoxId([7; 32]),
            addresses: vec!["10.0.0.2:7443".into()],
            secret: URL_SAFE_NO_PAD.encode([1u8; 32]),
            scope: None,
        };
        let text = token.encode();
        assert!(text.starts_with("folio1:"));
        assert_eq!(Token::decode(&format!("  {text}\n")).unwrap(), token);
        for bad in ["", "folio1:", "folio1:!!!", "folio2:abc", &text[..text.len() - 4]] {
            let e = Token::decode(bad).unwrap_err().to_string();
            assert!(e.contains("not a folio invitation"), "{bad}: {e}");
        }
    }

    #[test]
    fn addresses_are_host_and_port_only() {
        assert!(plausible_address("192.168.1.20:7443"));
        assert!(plausible_address("[fe80::1%eth0]:7443"));
        assert!(!plausible_address("evil.example/path:1"));
        assert!(!plausible_address("user@host:1"));
        assert!(!plausible_address("nohost"));
    }

    #[test]
    fn a_narrower_scope_is_covered_and_a_wider_one_is_not() {
        let (s, a, b) = (crate::domain::SchoolId::new(), crate::domain::ClassId::new(), crate::domain::ClassId::new());
        let one = PeerScope::Classes([(s, a)].into());
        let two = PeerScope::Classes([(s, a), (s, b)].into());
        assert!(PeerScope::WholeSchools.covers(&two));
        assert!(two.covers(&one));
        assert!(!one.covers(&two));
        assert!(!two.covers(&PeerScope::WholeSchools));
    }
}
