//! The whole application, driven in process through its router. One binary, a module per feature.

mod helpers;

mod auth;
mod cases;
mod chat;
mod chat_browser;
mod chat_presence;
mod directory;
mod errors;
mod gaps;
mod insights;
mod intake;
mod linkage;
mod ops;
mod pages;
mod permissions;
mod pictures;
mod review;
mod screening;
mod serve;
mod sms;
mod tips;
mod voice;
