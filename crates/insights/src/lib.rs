//! lantern-insights
