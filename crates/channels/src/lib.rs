//! lantern-channels
