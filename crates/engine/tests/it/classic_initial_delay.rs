//! Kafka's initial rebalance delay (`groups.initial_rebalance_delay_ms`): consumers started
//! together land in one first generation instead of one generation per member. Paused time:
//! the group sweep (`Groups::expire`) starts the generation once the wait is over.

use std::time::Duration;

use memstream_engine::config::GroupsConfig;
use memstream_engine::groups::{ClassicJoined, GroupError};

use crate::classic_groups::{join, joined, setup, Setup, WAIT};

fn with_delay(ms: u32) -> Setup {
    let mut s = setup();
    s.limits = GroupsConfig {
        initial_rebalance_delay_ms: ms,
        ..GroupsConfig::default()
    };
    s
}

/// A new member's JoinGroup (no member id, the `range` protocol).
fn join_new(s: &Setup) -> tokio::sync::oneshot::Receiver<Result<ClassicJoined, GroupError>> {
    s.groups
        .join_classic(join("", &["range"]), &s.streams, &s.limits)
        .unwrap()
}

fn sweep(s: &Setup) {
    s.groups.expire(tokio::time::Instant::now(), &s.streams);
}

/// Two members joining a new group 1 s apart get the same first generation, which starts
/// only when the delay after the last joiner has passed.
#[tokio::test(start_paused = true)]
async fn members_joining_within_the_delay_share_the_first_generation() {
    let s = with_delay(3_000);
    let mut first = join_new(&s);
    tokio::time::advance(Duration::from_millis(1_000)).await;
    sweep(&s);
    assert!(
        first.try_recv().is_err(),
        "the group waits for more members"
    );
    let second = join_new(&s);
    // 3 s after the first join, but only 2 s after the second: still waiting.
    tokio::time::advance(Duration::from_millis(2_000)).await;
    sweep(&s);
    assert!(first.try_recv().is_err(), "each joiner extends the wait");
    tokio::time::advance(Duration::from_millis(1_100)).await;
    sweep(&s);
    let (a, b) = (joined(first).await, joined(second).await);
    assert_eq!(a.generation, 1, "one first generation for both");
    assert_eq!(a.generation, b.generation);
    assert_eq!(a.leader, a.member_id, "the first joiner leads");
    assert_eq!(a.members.len(), 2);
}

/// Members that keep joining cannot hold the group back past the first member's rebalance
/// timeout (30 s here).
#[tokio::test(start_paused = true)]
async fn the_wait_ends_at_the_rebalance_timeout() {
    let s = with_delay(3_000);
    let mut first = join_new(&s);
    let mut later = Vec::new();
    for _ in 0..14 {
        tokio::time::advance(Duration::from_millis(2_000)).await;
        sweep(&s);
        later.push(join_new(&s));
    }
    // 28 s after the first join, with a member joining every 2 s: the last one would hold
    // the group until 31 s, the timeout ends the wait at 30 s.
    tokio::time::advance(Duration::from_millis(1_900)).await;
    sweep(&s);
    assert!(first.try_recv().is_err(), "29.9 s: still waiting");
    tokio::time::advance(Duration::from_millis(200)).await;
    sweep(&s);
    let a = tokio::time::timeout(WAIT, first)
        .await
        .expect("the generation started at the rebalance timeout")
        .unwrap()
        .unwrap();
    assert_eq!(a.generation, 1);
    assert_eq!(a.members.len(), 15);
}

/// The delay is for a group without members only: a member joining a live group rebalances
/// it at once, and 0 turns the delay off.
#[tokio::test(start_paused = true)]
async fn only_an_empty_group_waits() {
    let s = with_delay(3_000);
    let first = join_new(&s);
    tokio::time::advance(Duration::from_millis(3_100)).await;
    sweep(&s);
    let a = joined(first).await;
    // A second member: the first rejoins, and the generation starts without waiting.
    let second = join_new(&s);
    let again = s
        .groups
        .join_classic(join(&a.member_id, &["range"]), &s.streams, &s.limits)
        .unwrap();
    let (a2, b) = (joined(again).await, joined(second).await);
    assert_eq!(a2.generation, 2);
    assert_eq!(b.generation, 2);

    let off = with_delay(0);
    let rx = join_new(&off);
    assert_eq!(joined(rx).await.generation, 1, "no delay, no sweep needed");
}
