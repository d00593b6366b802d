//! `kz.gov.pki.ncalayerservices.accessory` (PROTOCOL.md §2.5).

use serde_json::{Value, json};

/// The reply to an accessory query.
pub(super) fn reply(method: &str) -> Value {
    let version = env!("CARGO_PKG_VERSION");
    match method {
        "getBundles" => json!({
            "kz.gov.pki.knca.basics": version,
            "kz.gov.pki.knca.commonUtils": version,
            "kz.gov.pki.ncalayerservices.accessory": version,
            "kz.qoltanba": version,
        }),
        "getServices" => json!({"services": [
            "kz.gov.pki.knca.basics", "kz.gov.pki.knca.commonUtils", "kz.gov.pki.ncalayerservices.accessory"
        ]}),
        "getVersion" => {
            json!({"result": {"version": "1.4"}, "product": "Qoltanba", "productVersion": version})
        }
        // Windows of the Java app that do not exist here; answer so the socket stays in step.
        _ => json!({"status": true, "body": {}}),
    }
}
