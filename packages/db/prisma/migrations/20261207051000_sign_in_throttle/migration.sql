-- DropTable
DROP TABLE "sign_in_failures";

-- CreateTable
CREATE TABLE "sign_in_throttle" (
    "key" TEXT NOT NULL,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL,

    CONSTRAINT "sign_in_throttle_pkey" PRIMARY KEY ("key")
);

-- CreateTable
CREATE TABLE "sign_in_known_addresses" (
    "email" TEXT NOT NULL,
    "ip" TEXT NOT NULL,
    "last_success_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "sign_in_known_addresses_pkey" PRIMARY KEY ("email","ip")
);

-- CreateIndex
CREATE INDEX "sign_in_throttle_window_start_idx" ON "sign_in_throttle"("window_start");

-- CreateIndex
CREATE INDEX "sign_in_known_addresses_last_success_at_idx" ON "sign_in_known_addresses"("last_success_at");
