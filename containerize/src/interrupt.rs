//! Ctrl-C, heard once for the whole run: a signal that arrives while nothing is waiting for
//! it (between two requests, while tagging) is remembered, so the next check stops the run.

use futures_util::FutureExt;
use tokio::sync::watch;

/// Whether Ctrl-C was pressed; cheap to clone and to check.
#[derive(Clone, Debug)]
pub struct Interruption(watch::Receiver<bool>);

/// Interrupts an [`Interruption`] by hand (tests, and the Ctrl-C listener).
#[derive(Debug)]
pub struct Trigger(watch::Sender<bool>);

impl Trigger {
    /// Marks the run interrupted.
    pub fn interrupt(&self) {
        self.0.send_replace(true);
    }
}

impl Interruption {
    /// Listens for Ctrl-C from now on (inside a tokio runtime). SIGINT then no longer ends the
    /// process: the run checks, cleans up and exits with 130.
    pub fn listen() -> Interruption {
        let (trigger, interruption) = Interruption::manual();
        let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
        // Polled once here, the handler is in place before this returns: no window in which
        // a Ctrl-C would still kill the process outright.
        if (&mut ctrl_c).now_or_never().is_none() {
            tokio::spawn(async move {
                // A failure to listen counts as a Ctrl-C: stop rather than run on deaf.
                let _ = ctrl_c.await;
                eprintln!("interrupted: stopping, and putting back what was started");
                trigger.interrupt();
            });
        } else {
            trigger.interrupt();
        }
        interruption
    }

    /// An interruption only `Trigger` sets.
    pub fn manual() -> (Trigger, Interruption) {
        let (sender, receiver) = watch::channel(false);
        (Trigger(sender), Interruption(receiver))
    }

    /// Whether Ctrl-C was pressed.
    pub fn happened(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once Ctrl-C is pressed (at once if it was).
    pub async fn wait(&self) {
        let mut receiver = self.0.clone();
        if receiver.wait_for(|&interrupted| interrupted).await.is_err() {
            // No trigger is left: no interruption can come.
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_interruption_is_remembered_until_checked() {
        let (trigger, interruption) = Interruption::manual();
        assert!(!interruption.happened());
        trigger.interrupt();
        assert!(interruption.happened());
        interruption.wait().await;
        interruption.clone().wait().await;
    }
}
