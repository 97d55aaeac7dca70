//! A public group's ratchet tree in its wire encoding (`optional<Node> ratchet_tree<V>`,
//! RFC 9420 §12.4.3.3), written straight from the group's nodes: the octets of openmls's
//! `export_ratchet_tree` followed by its TLS encoding, without first copying every node (at
//! 2,000 members that copy and its drop were a fifth of the hub's whole add-one, whose Welcome
//! carries the tree). The roster tests compare both encodings after every membership change.

use openmls::treesync::TreeSync;
use tls_codec::Serialize;

use crate::error::MlsError;

/// `NodeType` (RFC 9420 §7.8).
const NODE_LEAF: u8 = 1;
const NODE_PARENT: u8 = 2;

/// The tree, trimmed after its rightmost non-blank leaf, as a TLS vector (length prefix
/// included).
pub(crate) fn encode(tree: &TreeSync) -> Result<Vec<u8>, MlsError> {
    let body = nodes(tree)?;
    let mut out = Vec::with_capacity(body.len() + 4);
    tls_codec::vlen::write_length(&mut out, body.len()).map_err(MlsError::mls)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// The content of that vector: its nodes, without the length prefix.
pub(crate) fn nodes(tree: &TreeSync) -> Result<Vec<u8>, MlsError> {
    let mut leaves = tree.full_leaves().map(|(i, l)| (i.u32(), l)).peekable();
    let mut parents = tree.full_parents().map(|(i, p)| (i.u32(), p)).peekable();
    let Some(last) = tree.full_leaves().last().map(|(i, _)| i.u32()) else {
        return Ok(Vec::new());
    };
    let mut body = Vec::new();
    for k in 0..=last {
        match leaves.next_if(|(i, _)| *i == k) {
            Some((_, leaf)) => node(&mut body, NODE_LEAF, leaf)?,
            None => body.push(0),
        }
        if k < last {
            match parents.next_if(|(i, _)| *i == k) {
                Some((_, parent)) => node(&mut body, NODE_PARENT, parent)?,
                None => body.push(0),
            }
        }
    }
    if leaves.next().is_some() || parents.next_if(|(i, _)| *i < last).is_some() {
        return Err(MlsError::Internal(
            "ratchet tree: nodes out of index order".into(),
        ));
    }
    Ok(body)
}

/// `optional<Node>` present: 1, the node type, the node.
fn node(out: &mut Vec<u8>, node_type: u8, n: &impl Serialize) -> Result<(), MlsError> {
    out.push(1);
    out.push(node_type);
    n.tls_serialize(out).map(drop).map_err(MlsError::mls)
}
