import { Lock } from "lucide-react";
import { StatusPage } from "@/components/ui/status-page";

export default function Forbidden() {
  return (
    <StatusPage icon={Lock} title="You can’t do this here">
      Your role in this project does not include this page. A project owner can change your role.
    </StatusPage>
  );
}
