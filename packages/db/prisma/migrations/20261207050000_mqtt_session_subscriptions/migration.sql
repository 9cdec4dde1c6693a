-- CreateTable
CREATE TABLE "mqtt_session_subscriptions" (
    "client_id" TEXT NOT NULL,
    "filters" TEXT[],
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "mqtt_session_subscriptions_pkey" PRIMARY KEY ("client_id")
);
