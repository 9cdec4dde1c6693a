-- device.online / device.offline (docs/api.md#webhooks) in the transaction that records the
-- change of a device's presence, whichever path records it (a broker report, a birth message, a
-- Last Will, an expiry): one event per transition, however many workers run.
CREATE FUNCTION fleetdrop_devices_presence_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.presence_online IS NOT NULL AND NEW.presence_online IS DISTINCT FROM OLD.presence_online THEN
    PERFORM fleetdrop_enqueue_event(NEW.project_id, NEW.id,
      CASE WHEN NEW.presence_online THEN 'device.online' ELSE 'device.offline' END,
      jsonb_strip_nulls(jsonb_build_object('serial', NEW.serial, 'since', NEW.presence_since, 'via', NEW.presence_via)));
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER devices_presence_webhook_event AFTER UPDATE OF presence_online ON devices
FOR EACH ROW EXECUTE FUNCTION fleetdrop_devices_presence_event();
