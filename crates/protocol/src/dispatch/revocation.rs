//! Revocation before signing, as NCALayer does: the chosen key's certificate is checked (OCSP,
//! CRL fallback — the [`RevocationCheck`] port does the fetching at the edge); a revoked or
//! unknown certificate is refused unless the request allows revoked ones; one that could not
//! be checked is refused or let through as the admin's policy says; one that names no
//! responder and no CRL has nothing to check.

use qoltanba_keys::SigningKey;
use qoltanba_pki::revocation::RevocationState;

use super::Dispatcher;
use crate::filter::KeyFilter;
use crate::wire::Failure;

/// Asks OCSP responders and reads CRLs.
pub trait RevocationCheck: Send + Sync {
    /// The state of `leaf`; `pool` holds candidates for its issuer (the chain that came with
    /// the key and the trust anchors).
    fn check(&self, leaf: &[u8], pool: &[Vec<u8>]) -> RevocationState;
}

/// What to do when a certificate could not be checked (the policy file's `[revocation]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhenUnchecked {
    /// Sign anyway (the relying party checks again); the state is logged.
    #[default]
    Sign,
    /// Refuse.
    Refuse,
}

impl Dispatcher {
    /// Checks `key`'s certificate before it signs.
    pub(super) fn check_revocation(
        &self,
        key: &dyn SigningKey,
        filter: &KeyFilter,
    ) -> Result<(), Failure> {
        let Some((check, when)) = &self.revocation else {
            return Ok(());
        };
        let mut pool: Vec<Vec<u8>> = key.chain_der().to_vec();
        pool.extend(self.settings.trust_anchors.iter().cloned());
        let state = check.check(key.certificate_der(), &pool);
        match &state {
            RevocationState::Good { .. } | RevocationState::NothingToCheck => Ok(()),
            RevocationState::Revoked { .. } | RevocationState::Unknown { .. }
                if filter.allow_revoked =>
            {
                Ok(())
            }
            RevocationState::Revoked { .. } | RevocationState::Unknown { .. } => {
                Err(Failure::Revoked(state.to_string()))
            }
            RevocationState::Unchecked { .. } if *when == WhenUnchecked::Sign => Ok(()),
            RevocationState::Unchecked { .. } => Err(Failure::Revoked(state.to_string())),
        }
    }
}
