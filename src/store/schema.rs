//! Table definitions shared by both backends (hand-written: the two
//! migration folders create the same logical schema).

diesel::table! {
    settings (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    teams (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    staff (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        role -> Text,
        team_id -> Nullable<BigInt>,
        password_hash -> Text,
        active -> Bool,
        sees_team -> Bool,
        notify_high -> Text,
        notify_other -> Text,
        created_at -> Timestamp,
        last_sign_in_at -> Nullable<Timestamp>,
        session_generation -> BigInt,
    }
}

diesel::table! {
    clients (id) {
        id -> BigInt,
        clinician_id -> BigInt,
        name -> Text,
        email -> Nullable<Text>,
        language -> Text,
        time_zone -> Nullable<Text>,
        opted_out -> Bool,
        opted_out_at -> Nullable<Timestamp>,
        invitations_paused -> Bool,
        pause_reason -> Nullable<Text>,
        easy_read -> Bool,
        source -> Nullable<Text>,
        external_id -> Nullable<Text>,
        erased_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    appointments (id) {
        id -> BigInt,
        client_id -> BigInt,
        clinician_id -> BigInt,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        status -> Text,
        source -> Text,
        external_id -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    instruments (id) {
        id -> BigInt,
        slug -> Text,
        version -> Integer,
        title -> Text,
        definition -> Text,
        is_default -> Bool,
        published_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> BigInt,
        appointment_id -> BigInt,
        client_id -> BigInt,
        instrument_id -> BigInt,
        status -> Text,
        send_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        reminder_at -> Timestamp,
        reminded_at -> Nullable<Timestamp>,
        expires_at -> Timestamp,
        answered_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    link_tokens (token_hash) {
        token_hash -> Text,
        purpose -> Text,
        invitation_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    responses (id) {
        id -> BigInt,
        invitation_id -> BigInt,
        client_id -> BigInt,
        instrument_id -> BigInt,
        answers -> Text,
        total -> Nullable<Double>,
        common_score -> Nullable<Double>,
        scores -> Text,
        screener_uncomfortable -> Nullable<Bool>,
        comment -> Nullable<Text>,
        submitted_at -> Timestamp,
        language -> Nullable<Text>,
    }
}

diesel::table! {
    alerts (id) {
        id -> BigInt,
        client_id -> BigInt,
        clinician_id -> BigInt,
        opened_at_session -> Integer,
        severity -> Text,
        status -> Text,
        outcome -> Nullable<Text>,
        recovered_at_session -> Nullable<Integer>,
        closed_after_session -> Nullable<Integer>,
        notified_severity -> Nullable<Text>,
        opened_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    alert_signals (id) {
        id -> BigInt,
        alert_id -> BigInt,
        rule -> Text,
        rule_version -> Integer,
        session -> Integer,
        from_session -> Nullable<Integer>,
        known_at_session -> Integer,
        severity -> Text,
        explanation -> Text,
        inputs -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    alert_events (id) {
        id -> BigInt,
        alert_id -> BigInt,
        kind -> Text,
        outcome -> Nullable<Text>,
        note -> Nullable<Text>,
        staff_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        kind -> Text,
        recipient -> Text,
        invitation_id -> Nullable<BigInt>,
        staff_id -> Nullable<BigInt>,
        payload -> Text,
        message_id -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        key_hash -> Text,
        scopes -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        at -> Timestamp,
        staff_id -> Nullable<BigInt>,
        api_key_id -> Nullable<BigInt>,
        action -> Text,
        client_id -> Nullable<BigInt>,
        alert_id -> Nullable<BigInt>,
        detail -> Nullable<Text>,
    }
}

diesel::table! {
    sign_in_failures (id) {
        id -> BigInt,
        email -> Text,
        at -> Timestamp,
        address -> Text,
    }
}

diesel::joinable!(staff -> teams (team_id));
diesel::joinable!(clients -> staff (clinician_id));
diesel::joinable!(appointments -> clients (client_id));
diesel::joinable!(invitations -> appointments (appointment_id));
diesel::joinable!(invitations -> clients (client_id));
diesel::joinable!(invitations -> instruments (instrument_id));
diesel::joinable!(link_tokens -> invitations (invitation_id));
diesel::joinable!(responses -> invitations (invitation_id));
diesel::joinable!(alerts -> clients (client_id));
diesel::joinable!(alert_signals -> alerts (alert_id));
diesel::joinable!(alert_events -> alerts (alert_id));
diesel::joinable!(audit_log -> staff (staff_id));
diesel::joinable!(alert_events -> staff (staff_id));
diesel::joinable!(outbox -> invitations (invitation_id));

diesel::allow_tables_to_appear_in_same_query!(
    settings,
    teams,
    staff,
    clients,
    appointments,
    instruments,
    invitations,
    link_tokens,
    responses,
    alerts,
    alert_signals,
    alert_events,
    outbox,
    api_keys,
    audit_log,
    sign_in_failures,
);

diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        url -> Text,
        secret -> Text,
        events -> Text,
        active -> Bool,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
    }
}

// Manager insights: pre-aggregated trend cells and the queue of instants
// whose periods need recomputing (migration 2026-11-29-000001_insights).
// Never joined with other tables, so not in the list above.

diesel::table! {
    insight_dirty (id) {
        id -> BigInt,
        at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    insight_cells (period_kind, breakdown, period_start, group_id) {
        period_kind -> Text,
        breakdown -> Text,
        period_start -> Date,
        group_id -> BigInt,
        invitations_sent -> BigInt,
        invitation_clients -> BigInt,
        invitations_closed -> BigInt,
        invitations_answered -> BigInt,
        closed_clients -> BigInt,
        scored -> BigInt,
        scored_clients -> BigInt,
        total_sum -> Double,
        common_sum -> Double,
        native_instrument_id -> Nullable<BigInt>,
        cutoff_scored -> BigInt,
        low_scores -> BigInt,
        cutoff_clients -> BigInt,
        sessions -> BigInt,
        session_clients -> BigInt,
        alerts -> BigInt,
        alert_clients -> BigInt,
        recovered -> BigInt,
        acknowledged -> BigInt,
        acknowledged_clients -> BigInt,
        median_hours_to_acknowledge -> Nullable<Double>,
        with_outcome -> BigInt,
        repaired -> BigInt,
        outcome_clients -> BigInt,
    }
}

diesel::table! {
    insight_rule_cells (period_kind, breakdown, period_start, group_id, rule) {
        period_kind -> Text,
        breakdown -> Text,
        period_start -> Date,
        group_id -> BigInt,
        rule -> Text,
        alerts -> BigInt,
        alert_clients -> BigInt,
        with_outcome -> BigInt,
        not_a_rupture -> BigInt,
        outcome_clients -> BigInt,
    }
}
