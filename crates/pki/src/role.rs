//! Role OIDs from the "Users" branch 1.2.398.3.3.4 of the Kazakh OID registry (KZ-PKI.md §2.1).
//! NCA puts them in the extendedKeyUsage extension beside the standard EKU.

use serde::Serialize;

/// A role a certificate grants, with its names in the three UI languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Role {
    /// 1.2.398.3.3.4.1.1 — individual.
    Individual,
    /// 1.2.398.3.3.4.1.2 — legal entity (any employee with a company certificate).
    LegalEntity,
    /// 1.2.398.3.3.4.1.2.1 — first head (CEO).
    Ceo,
    /// 1.2.398.3.3.4.1.2.2 — person with the right to sign.
    Signer,
    /// 1.2.398.3.3.4.1.2.3 — person with the right to sign financial documents.
    FinanceSigner,
    /// 1.2.398.3.3.4.1.2.4 — HR department employee.
    Hr,
    /// 1.2.398.3.3.4.1.2.5 — employee of the organisation.
    Employee,
    /// 1.2.398.3.3.4.3.2.1 — identified remotely through Digital ID.
    RemoteIdentified,
}

/// The three languages of the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Қазақша.
    Kk,
    /// Русский.
    Ru,
    /// English.
    En,
}

impl Role {
    /// Every role, in registry order.
    pub const ALL: [Self; 8] = [
        Self::Individual,
        Self::LegalEntity,
        Self::Ceo,
        Self::Signer,
        Self::FinanceSigner,
        Self::Hr,
        Self::Employee,
        Self::RemoteIdentified,
    ];

    /// The role's OID in dotted form.
    pub const fn oid(self) -> &'static str {
        match self {
            Self::Individual => "1.2.398.3.3.4.1.1",
            Self::LegalEntity => "1.2.398.3.3.4.1.2",
            Self::Ceo => "1.2.398.3.3.4.1.2.1",
            Self::Signer => "1.2.398.3.3.4.1.2.2",
            Self::FinanceSigner => "1.2.398.3.3.4.1.2.3",
            Self::Hr => "1.2.398.3.3.4.1.2.4",
            Self::Employee => "1.2.398.3.3.4.1.2.5",
            Self::RemoteIdentified => "1.2.398.3.3.4.3.2.1",
        }
    }

    /// The role for a dotted OID, if it is one the product knows.
    pub fn from_oid(oid: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.oid() == oid)
    }

    /// A short machine name (stable; used in JSON).
    pub const fn code(self) -> &'static str {
        match self {
            Self::Individual => "individual",
            Self::LegalEntity => "legal_entity",
            Self::Ceo => "ceo",
            Self::Signer => "signer",
            Self::FinanceSigner => "finance_signer",
            Self::Hr => "hr",
            Self::Employee => "employee",
            Self::RemoteIdentified => "remote_identified",
        }
    }

    /// The role's name for people, in `lang`.
    pub const fn name(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::Individual, Lang::Kk) => "Жеке тұлға",
            (Self::Individual, Lang::Ru) => "Физическое лицо",
            (Self::Individual, Lang::En) => "Individual",
            (Self::LegalEntity, Lang::Kk) => "Заңды тұлға",
            (Self::LegalEntity, Lang::Ru) => "Юридическое лицо",
            (Self::LegalEntity, Lang::En) => "Legal entity",
            (Self::Ceo, Lang::Kk) => "Бірінші басшы",
            (Self::Ceo, Lang::Ru) => "Первый руководитель",
            (Self::Ceo, Lang::En) => "Chief executive",
            (Self::Signer, Lang::Kk) => "Қол қою құқығы бар тұлға",
            (Self::Signer, Lang::Ru) => "Лицо с правом подписи",
            (Self::Signer, Lang::En) => "Authorised signer",
            (Self::FinanceSigner, Lang::Kk) => "Қаржылық құжаттарға қол қою құқығы бар тұлға",
            (Self::FinanceSigner, Lang::Ru) => "Лицо с правом подписи финансовых документов",
            (Self::FinanceSigner, Lang::En) => "Authorised signer of financial documents",
            (Self::Hr, Lang::Kk) => "Кадр бөлімінің қызметкері",
            (Self::Hr, Lang::Ru) => "Сотрудник отдела кадров",
            (Self::Hr, Lang::En) => "HR officer",
            (Self::Employee, Lang::Kk) => "Ұйым қызметкері",
            (Self::Employee, Lang::Ru) => "Сотрудник организации",
            (Self::Employee, Lang::En) => "Employee",
            (Self::RemoteIdentified, Lang::Kk) => "Digital ID арқылы қашықтан сәйкестендірілген",
            (Self::RemoteIdentified, Lang::Ru) => "Удалённая идентификация через Digital ID",
            (Self::RemoteIdentified, Lang::En) => "Identified remotely via Digital ID",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_round_trip_and_names_exist() {
        for r in Role::ALL {
            assert_eq!(Role::from_oid(r.oid()), Some(r));
            for l in [Lang::Kk, Lang::Ru, Lang::En] {
                assert!(!r.name(l).is_empty());
            }
        }
        assert_eq!(Role::from_oid("1.2.398.3.3.4.9"), None);
    }
}
